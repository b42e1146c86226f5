"""Demo data: a believable company with its suppliers, customers and six weeks of orders.

`portal demo` calls `load_demo`; see `loader.py` for how, `plots.py` for what happens.
"""

from portal.demo.loader import DemoResult, SignIn, load_demo

__all__ = ["DemoResult", "SignIn", "load_demo"]
