//! The endpoint on `metrics.listen`: `GET /metrics` (the Prometheus text
//! format) and `GET /healthz` (200 while serving, 503 once shutdown has
//! begun). Anything else is 404, another method on those paths 405.
//!
//! HTTP is tiny_http's, on threads of its own; this module only routes.
//! Its socket is bound by `serve` itself, also under systemd socket
//! activation (the sockets systemd passes are all SMTP), so that a bad
//! address fails startup. A scrape reads atomics and the store's file
//! sizes, never the store's connection: it cannot hold up a delivery, nor
//! a delivery a scrape.

use super::Metrics;
use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use tiny_http::{Header, Method, Request, Response, Server};

/// The endpoint could not be started.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("cannot listen for metrics on {address} (metrics.listen): {cause}")]
    Bind {
        address: SocketAddr,
        cause: io::Error,
    },
    #[error("cannot serve metrics on {address} (metrics.listen): {cause}")]
    Serve { address: SocketAddr, cause: String },
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Metrics,
    Health,
    /// A known path with a method other than GET or HEAD.
    MethodNotAllowed,
    NotFound,
}

impl Route {
    fn of(method: &Method, url: &str) -> Route {
        let path = url.split_once('?').map_or(url, |(path, _)| path);
        let known = match path {
            "/metrics" => Route::Metrics,
            "/healthz" => Route::Health,
            _ => return Route::NotFound,
        };
        match method {
            Method::Get | Method::Head => known,
            _ => Route::MethodNotAllowed,
        }
    }
}

/// The running endpoint; [`Endpoint::stop`] ends it.
pub struct Endpoint {
    server: Arc<Server>,
    address: SocketAddr,
    thread: JoinHandle<()>,
}

impl Endpoint {
    /// Binds `address` and serves `metrics` on it. `serving` says whether
    /// the daemon is serving (`/healthz`); it is asked at each request.
    pub fn start(
        address: SocketAddr,
        metrics: Arc<Metrics>,
        serving: impl Fn() -> bool + Send + 'static,
    ) -> Result<Endpoint, EndpointError> {
        let listener =
            TcpListener::bind(address).map_err(|cause| EndpointError::Bind { address, cause })?;
        let address = listener
            .local_addr()
            .map_err(|cause| EndpointError::Bind { address, cause })?;
        let server = Server::from_listener(listener, None)
            .map_err(|cause| EndpointError::Serve {
                address,
                cause: cause.to_string(),
            })
            .map(Arc::new)?;
        let serving_from = server.clone();
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for request in serving_from.incoming_requests() {
                    answer(request, &metrics, &serving);
                }
            })
            .map_err(|cause| EndpointError::Serve {
                address,
                cause: cause.to_string(),
            })?;
        Ok(Endpoint {
            server,
            address,
            thread,
        })
    }

    /// Where it listens (the port chosen when `metrics.listen` gave 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Stops answering and waits for the thread.
    pub fn stop(self) {
        self.server.unblock();
        let _ = self.thread.join();
    }
}

fn answer(request: Request, metrics: &Metrics, serving: &dyn Fn() -> bool) {
    let response = match Route::of(request.method(), request.url()) {
        Route::Metrics => Response::from_string(metrics.encode())
            .with_header(header("Content-Type", CONTENT_TYPE)),
        Route::Health if serving() => Response::from_string("ok\n"),
        Route::Health => Response::from_string("shutting down\n").with_status_code(503),
        Route::MethodNotAllowed => Response::from_string("method not allowed\n")
            .with_status_code(405)
            .with_header(header("Allow", "GET, HEAD")),
        Route::NotFound => Response::from_string("not found\n").with_status_code(404),
    };
    if let Err(error) = request.respond(response) {
        tracing::debug!(%error, "a metrics client went away");
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of(&Method::Get, "/metrics"), Route::Metrics);
        assert_eq!(Route::of(&Method::Head, "/metrics?x=1"), Route::Metrics);
        assert_eq!(Route::of(&Method::Get, "/healthz"), Route::Health);
        assert_eq!(
            Route::of(&Method::Post, "/metrics"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::of(&Method::Get, "/"), Route::NotFound);
        assert_eq!(Route::of(&Method::Delete, "/metricsx"), Route::NotFound);
    }
}
