"""Selection -> plan: what to measure on this runtime, and where the interpreters are."""
