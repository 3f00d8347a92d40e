"""Gold sets (JSONL) and the modules that author them; schema in eval/README.md."""
