// Open sockets, pipes and files until the engine refuses (nofile 64).
const fs = require("fs");
const fds = [];
try {
  for (;;) {
    fds.push(fs.openSync("/dev/null", "r"));
    if (fds.length > 100000) break;
  }
  console.log(`ESCAPED: ${fds.length} files open`);
} catch (error) {
  if (error.code === "EMFILE" && fds.length < 64) {
    console.log(`BLOCKED EMFILE after ${fds.length} files`);
  } else {
    console.log(`ESCAPED? ${error.code} after ${fds.length} files`);
  }
}
