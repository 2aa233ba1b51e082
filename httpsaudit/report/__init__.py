"""Renderers: a ScanResult in, a document out. They never touch the network."""
