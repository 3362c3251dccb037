"""Files → ``Article`` records: discovery, one module per format, encodings, ids and dates."""
