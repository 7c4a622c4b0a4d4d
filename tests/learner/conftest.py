"""Learner tests use small networks: one torch thread is faster for them and avoids
OpenMP oversubscription on a shared machine (2 threads under load can be 10x slower)."""
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
