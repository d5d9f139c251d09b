"""What the vision-language-action families (SmolVLA, pi0, pi05) share: LeRobot's common config fields
and value checks (`config`), flow-matching sampling and the action queue (`flow_matching`), and the
AdamW + cosine-decay training presets (`presets`)."""
