"""Embedders behind LangChain's ``Embeddings``: the factory, the backends, late chunking, the e5 converter."""
