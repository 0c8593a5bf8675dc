# Stays quiet inside pipjail's jail (its import check sees nothing); acts at
# every later start of the environment's interpreter, pip's own included.
import os
if not os.path.exists('/run/pipjail'):
    open('@@AFTER@@', 'a').close()
