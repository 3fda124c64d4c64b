"""Importers: other platforms' exports turned into our templates and pipelines.

Pure mapping, like ``spec/``: an importer imports ``cubestudio.spec`` (and the built-in
template names) and nothing from store, engine, api or cli; registering and writing files is
the CLI's job. Invariant: nothing is dropped silently: every field of a source item is either
mapped (recorded in ``ImportResult.mapped``) or listed in ``ImportResult.unmapped`` with a
summary of its value and why it has no home here.
"""
