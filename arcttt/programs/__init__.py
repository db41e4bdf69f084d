"""The program-search expert: a DSL of grid programs and a bottom-up search verified on demonstrations.

Torch-free. `search_task(task)` returns the verified programs, best first, and up to two
predictions per test input.
"""

from arcttt.programs.search import SearchResult, search_task

__all__ = ["SearchResult", "search_task"]
