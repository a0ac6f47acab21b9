"""The intake of the state's reference and portal data: drops of files, validated, applied once (docs/intake.md)."""
