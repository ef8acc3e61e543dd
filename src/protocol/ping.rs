//! The ping call, the one request-reply of the router protocol that every
//! side makes: the gateway's probes and `/metrics`, the heartbeat, the
//! language listing and a draining worker asking its own router. One place
//! turns the call's three ways of failing (no answer in time, a stopped
//! router, a message the router could not read) into one reason.

use std::time::Duration;

use ractor::ActorRef;
use ractor::rpc::CallResult;

use super::{PingReply, PingRequest, RouterMessage, Wire};

/// Pings one router; the reply, or why there is none.
pub async fn ping(
    router: &ActorRef<RouterMessage>,
    request: PingRequest,
    timeout: Duration,
) -> Result<PingReply, String> {
    match router
        .call(
            |port| RouterMessage::Ping(Wire::new(request), port),
            Some(timeout),
        )
        .await
    {
        Ok(CallResult::Success(Wire(Ok(reply)))) => Ok(reply),
        Ok(CallResult::Success(Wire(Err(fault)))) => Err(fault.to_string()),
        _ => Err("no answer to a ping".to_string()),
    }
}
