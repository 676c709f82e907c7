#!/usr/bin/env python
from raksa.cli import main

if __name__ == "__main__":
    main()
