# Fill the scratch area (/tmp, 16 MiB) with files under the size limit
# until the disk is full.
import errno
import os

written = 0
chunk = b"\0" * (1024 * 1024)
try:
    for index in range(100):
        with open(f"/tmp/fill-{index}", "wb") as file:
            for _ in range(4):
                file.write(chunk)
                file.flush()
                written += len(chunk)
    print(f"ESCAPED: wrote {written >> 20} MiB to /tmp")
except OSError as error:
    name = errno.errorcode.get(error.errno, str(error.errno))
    if error.errno == errno.ENOSPC and written <= 17 * 1024 * 1024:
        print(f"BLOCKED {name} after {written >> 20} MiB")
    else:
        print(f"ESCAPED? {name} after {written >> 20} MiB")
