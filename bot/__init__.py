"""newsbot's answering side: retrieve passages, answer, cite the exact sentences, serve UI/CLI."""
