//! Media for test calls: local RTP/RTCP sockets (bound before anything is offered, so an offer only
//! names ports sipcheck really listens on), RTP/RTCP packets ([`rtp`]), and a short exchange of media
//! that proves — or disproves — that SRTP and SRTCP flow with the negotiated keys ([`flow`]).

pub mod bleed;
pub mod dtls;
pub mod flow;
pub mod rtp;

use std::net::{IpAddr, SocketAddr};

use tokio::net::UdpSocket;

/// A pair of bound UDP sockets for RTP and RTCP.
pub struct MediaSockets {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
}

impl MediaSockets {
    /// Binds RTP and RTCP on `ip`, preferring an even port with RTCP on port + 1 (peers that ignore
    /// `a=rtcp` assume it, RFC 3550 §11); falls back to any two ports after a bounded number of tries.
    pub async fn bind(ip: IpAddr) -> std::io::Result<MediaSockets> {
        for _ in 0..32 {
            let rtp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
            let port = rtp.local_addr()?.port();
            if port % 2 != 0 || port == u16::MAX {
                continue;
            }
            if let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await {
                return Ok(MediaSockets { rtp, rtcp });
            }
        }
        Ok(MediaSockets {
            rtp: UdpSocket::bind(SocketAddr::new(ip, 0)).await?,
            rtcp: UdpSocket::bind(SocketAddr::new(ip, 0)).await?,
        })
    }

    pub fn rtp_addr(&self) -> std::io::Result<SocketAddr> {
        self.rtp.local_addr()
    }

    pub fn rtcp_addr(&self) -> std::io::Result<SocketAddr> {
        self.rtcp.local_addr()
    }
}
