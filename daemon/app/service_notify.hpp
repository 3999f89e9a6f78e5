#pragma once
// The systemd notification protocol (sd_notify(3)), by hand: one datagram to the AF_UNIX
// socket named by $NOTIFY_SOCKET. It lets the user unit be Type=notify — systemd counts the
// daemon as started when the API listens, shows "reloading" during a SIGHUP reload and
// "stopping" while it closes the store. Without $NOTIFY_SOCKET (a terminal, the tests) every
// call does nothing. Written by hand because the protocol is four lines and libsystemd would
// be one more runtime dependency for them.
#include <string>

namespace rapport::service {

// Sends `state` ("READY=1", "STOPPING=1", …); false when there is no socket or it failed.
bool notify(const std::string& state);

// "RELOADING=1" with MONOTONIC_USEC, as systemd wants it for a reload (systemd.service(5)).
bool notify_reloading();

}  // namespace rapport::service
