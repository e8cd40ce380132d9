"""pybpfc's loader: loads, attaches and inspects BPF objects. It never imports the compiler."""
