"""The chaos harness (`python -m bench.chaos`): cases through `gridcase up` while each of its
processes is killed, then checks that nothing was lost, doubled or wedged."""
