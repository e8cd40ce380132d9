# expect: 2:20 pybpfc has no 'cgroup_connect5'
from pybpfc import cgroup_connect5
