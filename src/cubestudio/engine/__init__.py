"""The engine: run and task states, the one transition function, and the run controller.

Invariants: only the engine changes run and task state; every change goes through
``states.move``; a move is committed to the store before its side effect (launch, kill).
"""
