"""The article store on Chroma: the client, its failures, the metadata schema, the store itself."""
