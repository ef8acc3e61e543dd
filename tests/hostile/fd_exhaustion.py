# Open files until the engine refuses (nofile 64).
import errno

files = []
try:
    while len(files) < 100000:
        files.append(open("/dev/null", "rb"))
    print(f"ESCAPED: {len(files)} files open")
except OSError as error:
    if error.errno == errno.EMFILE and len(files) < 64:
        print(f"BLOCKED EMFILE after {len(files)} files")
    else:
        print(f"ESCAPED? {error} after {len(files)} files")
