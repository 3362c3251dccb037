"""``newsbot bench``: ingest throughput, question latency at corpus size, serve memory and start-up."""
