# expect: 2:1 cannot import from 'os'
from os import system
