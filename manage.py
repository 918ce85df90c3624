#!/usr/bin/env python
"""Same as the ``jiancha`` console command."""

from jiancha.__main__ import main

if __name__ == "__main__":
    main()
