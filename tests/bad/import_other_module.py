# expect: 2:6 cannot import from 'os'
from os import system
