# expect: 2:20 pybpfc has no 'cgroup_connect4'
from pybpfc import cgroup_connect4
