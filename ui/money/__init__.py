"""The office's money on screen: the collection list, cheques (received and issued) and the cash forecast."""
