#!/bin/sh
# /usr/bin/offhook: runs the firmware bundle with the system's Node.js (exec: systemd sees node as the main process).
exec /usr/bin/node /usr/lib/offhook/offhook.mjs "$@"
