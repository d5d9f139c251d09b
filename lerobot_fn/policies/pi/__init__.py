"""What pi0 and pi05 share: the PaliGemma + Gemma-expert network, its config fields, processors and
policy functions. The families themselves are `policies.pi0` and `policies.pi05`."""
