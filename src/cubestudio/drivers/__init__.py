"""Drivers: where an attempt runs. ``local`` runs each attempt as a process group on this
machine; the Kubernetes backend registers beside it later. Drivers implement
``cubestudio.engine.launcher.Launcher`` and never change run state themselves."""
