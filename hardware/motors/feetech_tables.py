"""Feetech STS/SMS (protocol 0) and SCS (protocol 1) control tables: register name -> (address, bytes).

Addresses, sizes, sign-magnitude bits, model numbers and baud-rate codes as in Feetech's manuals and
LeRobot 0.6.1's `motors/feetech/tables.py`; `FACTORY` holds the values a new STS3215 ships with (the
simulator starts from them).
"""

from __future__ import annotations

STS_SMS_CONTROL_TABLE: dict[str, tuple[int, int]] = {
    # EPROM (written only with Lock = 0)
    "Firmware_Major_Version": (0, 1),
    "Firmware_Minor_Version": (1, 1),
    "Model_Number": (3, 2),
    "ID": (5, 1),
    "Baud_Rate": (6, 1),
    "Return_Delay_Time": (7, 1),
    "Response_Status_Level": (8, 1),
    "Min_Position_Limit": (9, 2),
    "Max_Position_Limit": (11, 2),
    "Max_Temperature_Limit": (13, 1),
    "Max_Voltage_Limit": (14, 1),
    "Min_Voltage_Limit": (15, 1),
    "Max_Torque_Limit": (16, 2),
    "Phase": (18, 1),
    "Unloading_Condition": (19, 1),
    "LED_Alarm_Condition": (20, 1),
    "P_Coefficient": (21, 1),
    "D_Coefficient": (22, 1),
    "I_Coefficient": (23, 1),
    "Minimum_Startup_Force": (24, 2),
    "CW_Dead_Zone": (26, 1),
    "CCW_Dead_Zone": (27, 1),
    "Protection_Current": (28, 2),
    "Angular_Resolution": (30, 1),
    "Homing_Offset": (31, 2),
    "Operating_Mode": (33, 1),
    "Protective_Torque": (34, 1),
    "Protection_Time": (35, 1),
    "Overload_Torque": (36, 1),
    "Velocity_closed_loop_P_proportional_coefficient": (37, 1),
    "Over_Current_Protection_Time": (38, 1),
    "Velocity_closed_loop_I_integral_coefficient": (39, 1),
    # SRAM
    "Torque_Enable": (40, 1),
    "Acceleration": (41, 1),
    "Goal_Position": (42, 2),
    "Goal_Time": (44, 2),
    "Goal_Velocity": (46, 2),
    "Torque_Limit": (48, 2),
    "Lock": (55, 1),
    "Present_Position": (56, 2),
    "Present_Velocity": (58, 2),
    "Present_Load": (60, 2),
    "Present_Voltage": (62, 1),
    "Present_Temperature": (63, 1),
    "Status": (65, 1),
    "Moving": (66, 1),
    "Present_Current": (69, 2),
    "Goal_Position_2": (71, 2),
    # Factory
    "Moving_Velocity": (80, 1),
    "Moving_Velocity_Threshold": (80, 1),
    "DTs": (81, 1),
    "Velocity_Unit_factor": (82, 1),
    "Hts": (83, 1),
    "Maximum_Velocity_Limit": (84, 1),
    "Maximum_Acceleration": (85, 1),
    "Acceleration_Multiplier ": (86, 1),
}

SRAM_START = 40  # addresses below are EPROM
READ_ONLY = {"Firmware_Major_Version", "Firmware_Minor_Version", "Model_Number", "Present_Position",
             "Present_Velocity", "Present_Load", "Present_Voltage", "Present_Temperature", "Status", "Moving",
             "Present_Current", "Goal_Position_2"}

BAUDRATE_TABLE = {1_000_000: 0, 500_000: 1, 250_000: 2, 128_000: 3, 115_200: 4, 57_600: 5, 38_400: 6, 19_200: 7}
SCAN_BAUDRATES = [4_800, 9_600, 14_400, 19_200, 38_400, 57_600, 115_200, 128_000, 250_000, 500_000, 1_000_000]

# Registers stored as sign-magnitude, with the index of their sign bit.
SIGN_MAGNITUDE_BITS = {"Present_Load": 10, "Homing_Offset": 11, "Goal_Position": 15, "Goal_Velocity": 15,
                       "Goal_Speed": 15, "Present_Position": 15, "Present_Velocity": 15, "Present_Speed": 15}

MODEL_NUMBER = {"sts3215": 777, "sts3250": 2825, "sm8512bl": 11272}
RESOLUTION = {"sts3215": 4096, "sts3250": 4096, "sm8512bl": 4096}
CONTROL_TABLE = {model: STS_SMS_CONTROL_TABLE for model in MODEL_NUMBER}

ERRBIT_VOLTAGE, ERRBIT_ANGLE, ERRBIT_OVERHEAT, ERRBIT_OVERELE, ERRBIT_OVERLOAD = 1, 2, 4, 8, 32

FACTORY = {
    "Firmware_Major_Version": 3, "Firmware_Minor_Version": 10, "ID": 1, "Baud_Rate": 0, "Return_Delay_Time": 250,
    "Response_Status_Level": 1, "Min_Position_Limit": 0, "Max_Position_Limit": 4095, "Max_Temperature_Limit": 70,
    "Max_Voltage_Limit": 140, "Min_Voltage_Limit": 40, "Max_Torque_Limit": 1000, "Phase": 12,
    "Unloading_Condition": 44, "LED_Alarm_Condition": 47, "P_Coefficient": 32, "D_Coefficient": 32,
    "I_Coefficient": 0, "Minimum_Startup_Force": 16, "CW_Dead_Zone": 1, "CCW_Dead_Zone": 1,
    "Protection_Current": 500, "Angular_Resolution": 1, "Homing_Offset": 0, "Operating_Mode": 0,
    "Protective_Torque": 20, "Protection_Time": 200, "Overload_Torque": 80, "Torque_Enable": 0, "Acceleration": 0,
    "Torque_Limit": 1000, "Lock": 1, "Present_Voltage": 120, "Present_Temperature": 30,
    "Maximum_Velocity_Limit": 80, "Maximum_Acceleration": 0,
}
