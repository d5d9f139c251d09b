"""Dynamixel X-series (protocol 2.0) control table: register name -> (address, bytes).

As in ROBOTIS' e-manual and LeRobot 0.6.1's `motors/dynamixel/tables.py`, for the models of the Koch
arms (XL330-M077, XL330-M288, XL430-W250) and their X-series siblings. `FACTORY` holds shipping values.
"""

from __future__ import annotations

X_SERIES_CONTROL_TABLE: dict[str, tuple[int, int]] = {
    "Model_Number": (0, 2),
    "Model_Information": (2, 4),
    "Firmware_Version": (6, 1),
    "ID": (7, 1),
    "Baud_Rate": (8, 1),
    "Return_Delay_Time": (9, 1),
    "Drive_Mode": (10, 1),
    "Operating_Mode": (11, 1),
    "Secondary_ID": (12, 1),
    "Protocol_Type": (13, 1),
    "Homing_Offset": (20, 4),
    "Moving_Threshold": (24, 4),
    "Temperature_Limit": (31, 1),
    "Max_Voltage_Limit": (32, 2),
    "Min_Voltage_Limit": (34, 2),
    "PWM_Limit": (36, 2),
    "Current_Limit": (38, 2),
    "Acceleration_Limit": (40, 4),
    "Velocity_Limit": (44, 4),
    "Max_Position_Limit": (48, 4),
    "Min_Position_Limit": (52, 4),
    "Shutdown": (63, 1),
    "Torque_Enable": (64, 1),
    "LED": (65, 1),
    "Status_Return_Level": (68, 1),
    "Registered_Instruction": (69, 1),
    "Hardware_Error_Status": (70, 1),
    "Velocity_I_Gain": (76, 2),
    "Velocity_P_Gain": (78, 2),
    "Position_D_Gain": (80, 2),
    "Position_I_Gain": (82, 2),
    "Position_P_Gain": (84, 2),
    "Feedforward_2nd_Gain": (88, 2),
    "Feedforward_1st_Gain": (90, 2),
    "Bus_Watchdog": (98, 1),
    "Goal_PWM": (100, 2),
    "Goal_Current": (102, 2),
    "Goal_Velocity": (104, 4),
    "Profile_Acceleration": (108, 4),
    "Profile_Velocity": (112, 4),
    "Goal_Position": (116, 4),
    "Realtime_Tick": (120, 2),
    "Moving": (122, 1),
    "Moving_Status": (123, 1),
    "Present_PWM": (124, 2),
    "Present_Current": (126, 2),
    "Present_Velocity": (128, 4),
    "Present_Position": (132, 4),
    "Velocity_Trajectory": (136, 4),
    "Position_Trajectory": (140, 4),
    "Present_Input_Voltage": (144, 2),
    "Present_Temperature": (146, 1),
}

RAM_START = 64  # addresses below are EEPROM (written only with torque off)
READ_ONLY = {"Model_Number", "Model_Information", "Firmware_Version", "Registered_Instruction",
             "Hardware_Error_Status", "Realtime_Tick", "Moving", "Moving_Status", "Present_PWM", "Present_Current",
             "Present_Velocity", "Present_Position", "Velocity_Trajectory", "Position_Trajectory",
             "Present_Input_Voltage", "Present_Temperature"}

BAUDRATE_TABLE = {9_600: 0, 57_600: 1, 115_200: 2, 1_000_000: 3, 2_000_000: 4, 3_000_000: 5, 4_000_000: 6}

# Registers stored as two's complement, with their size in bytes.
TWOS_COMPLEMENT_BYTES = {name: X_SERIES_CONTROL_TABLE[name][1] for name in (
    "Homing_Offset", "Goal_PWM", "Goal_Current", "Goal_Velocity", "Goal_Position", "Present_Position",
    "Present_PWM", "Present_Current", "Present_Velocity")}

MODEL_NUMBER = {"xl330-m077": 1190, "xl330-m288": 1200, "xl430-w250": 1060, "xm430-w350": 1020,
                "xm540-w270": 1120, "xc430-w150": 1070, "xh540-w150": 1110, "xc330-t288": 1220, "xc330-t181": 1210}
RESOLUTION = dict.fromkeys(MODEL_NUMBER, 4096)
CONTROL_TABLE = dict.fromkeys(MODEL_NUMBER, X_SERIES_CONTROL_TABLE)
OPERATING_MODES = {"xl330-m077": [0, 1, 3, 4, 5, 16], "xl330-m288": [0, 1, 3, 4, 5, 16],
                   "xl430-w250": [1, 3, 4, 16], "xm430-w350": [0, 1, 3, 4, 5, 16], "xm540-w270": [0, 1, 3, 4, 5, 16],
                   "xc430-w150": [1, 3, 4, 16], "xh540-w150": [0, 1, 3, 4, 5, 16], "xc330-t288": [0, 1, 3, 4, 5, 16],
                   "xc330-t181": [0, 1, 3, 4, 5, 16]}

# Protocol 2.0 status error numbers (low 7 bits) and the alert bit.
ERR_RESULT_FAIL, ERR_INSTRUCTION, ERR_CRC, ERR_DATA_RANGE, ERR_DATA_LENGTH, ERR_DATA_LIMIT, ERR_ACCESS = range(1, 8)
ERRBIT_ALERT = 0x80
HW_ERR_OVERLOAD = 0x20  # Hardware_Error_Status bit 5

FACTORY = {
    "Firmware_Version": 52, "ID": 1, "Baud_Rate": 1, "Return_Delay_Time": 250, "Drive_Mode": 0, "Operating_Mode": 3,
    "Secondary_ID": 255, "Protocol_Type": 2, "Homing_Offset": 0, "Moving_Threshold": 10, "Temperature_Limit": 70,
    "Max_Voltage_Limit": 140, "Min_Voltage_Limit": 35, "PWM_Limit": 885, "Current_Limit": 1750,
    "Acceleration_Limit": 32767, "Velocity_Limit": 445, "Max_Position_Limit": 4095, "Min_Position_Limit": 0,
    "Shutdown": 52, "Torque_Enable": 0, "LED": 0, "Status_Return_Level": 2, "Velocity_I_Gain": 1000,
    "Velocity_P_Gain": 100, "Position_D_Gain": 0, "Position_I_Gain": 0, "Position_P_Gain": 400,
    "Present_Input_Voltage": 50, "Present_Temperature": 30,
}
