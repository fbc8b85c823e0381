//! Lists (procore-api.md §2.4): bare JSON arrays, `page`/`per_page`, and `Total`,
//! `Per-Page` and `Link` headers. The first page says how many records there are; the
//! rest are then fetched a few at a time (within the rate budget, which the client
//! enforces) and handed out in order. Without `Total`, pages are followed one by one
//! while `Link` has a `next`.

use std::collections::HashSet;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::Value;

use crate::{ApiRequest, Client, Error};

/// A page request that owns its inputs, as the stream's futures must.
fn fetch(
    client: Client,
    request: ApiRequest,
    n: u64,
    per_page: u64,
) -> BoxFuture<'static, PageResult> {
    Box::pin(async move { client.page(&request, n, per_page).await })
}

type PageResult = Result<(Page, bool), Error>;

/// One page of a list, with what the first page said about the whole.
#[derive(Debug, Clone)]
pub struct Page {
    pub number: u64,
    pub records: Vec<Value>,
    /// All records of the list, when Procore said (`Total`).
    pub total: Option<u64>,
    /// The page size Procore used (`Per-Page`), which may be less than asked for.
    pub per_page: Option<u64>,
}

impl Client {
    /// The pages of a list, in order. A record that shows up twice (the list changed
    /// while being read and shifted a page) is handed out once.
    pub fn pages(&self, request: ApiRequest) -> BoxStream<'static, Result<Page, Error>> {
        let client = self.clone();
        let per_page = u64::from(self.inner.config.per_page.max(1));
        let concurrency = self.inner.config.page_concurrency.max(1);
        let first = fetch(client.clone(), request.clone(), 1, per_page);
        let pages = stream::once(first).flat_map(
            move |first| -> BoxStream<'static, Result<(Page, bool), Error>> {
                let (page, has_next) = match first {
                    Ok(first) => first,
                    Err(e) => return stream::iter([Err(e)]).boxed(),
                };
                let head = stream::iter([Ok((page.clone(), has_next))]);
                let (client, request) = (client.clone(), request.clone());
                // An endpoint with a lower cap than asked for numbers its pages by its own
                // size: the rest must be asked for with that size, or records are skipped.
                let per_page = page.per_page.filter(|&n| n > 0).unwrap_or(per_page);
                match page.total {
                    Some(total) => {
                        let last = total.div_ceil(per_page).max(1);
                        let rest = stream::iter(2..=last)
                            .map(move |n| fetch(client.clone(), request.clone(), n, per_page))
                            .buffered(concurrency);
                        head.chain(rest).boxed()
                    }
                    None => {
                        let rest = stream::unfold((2u64, has_next), move |(n, more)| {
                            let (client, request) = (client.clone(), request.clone());
                            async move {
                                if !more {
                                    return None;
                                }
                                let page = client.page(&request, n, per_page).await;
                                let more = matches!(page, Ok((_, true)));
                                Some((page, (n + 1, more)))
                            }
                        });
                        head.chain(rest).boxed()
                    }
                }
            },
        );
        let mut seen = HashSet::new();
        pages
            .scan(false, move |stopped, page| {
                // After an error the list is incomplete: end there rather than skip a page.
                let next = match page {
                    _ if *stopped => None,
                    Err(e) => {
                        *stopped = true;
                        Some(Err(e))
                    }
                    Ok((mut page, _)) => {
                        page.records.retain(|record| {
                            record
                                .get("id")
                                .and_then(Value::as_u64)
                                .is_none_or(|id| seen.insert(id))
                        });
                        // A page after the first with nothing new (empty, or only records
                        // already handed out) is past the end, whatever `Total` or `Link`
                        // claimed: an endpoint that ignores `page` would otherwise be read
                        // for ever.
                        if page.number > 1 && page.records.is_empty() {
                            None
                        } else {
                            Some(Ok(page))
                        }
                    }
                };
                async move { next }
            })
            .boxed()
    }

    /// Every record of a list, in order, each once.
    pub fn list(&self, request: ApiRequest) -> BoxStream<'static, Result<Value, Error>> {
        self.pages(request)
            .flat_map(|page| match page {
                Ok(page) => stream::iter(page.records.into_iter().map(Ok)).boxed(),
                Err(e) => stream::iter([Err(e)]).boxed(),
            })
            .boxed()
    }

    /// A whole list in memory.
    pub async fn list_all(&self, request: ApiRequest) -> Result<Vec<Value>, Error> {
        let mut records = Vec::new();
        let mut pages = self.pages(request);
        while let Some(page) = pages.next().await {
            records.extend(page?.records);
        }
        Ok(records)
    }

    /// Page `n`, and whether `Link` names a next one.
    async fn page(
        &self,
        request: &ApiRequest,
        n: u64,
        per_page: u64,
    ) -> Result<(Page, bool), Error> {
        let mut request = request.clone();
        request
            .query
            .retain(|(k, _)| k != "page" && k != "per_page");
        request.query.push(("page".into(), n.to_string()));
        request
            .query
            .push(("per_page".into(), per_page.to_string()));
        let response = self.send(&request).await?;
        let has_next = response
            .headers
            .get_all(http::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|link| link.contains("rel=\"next\"")));
        let total = response.header_number("total");
        let page_size = response.header_number("per-page");
        let records = match response.json()? {
            Value::Array(records) => records,
            _ => {
                return Err(Error::Protocol(
                    "a list answered with something other than an array".into(),
                ));
            }
        };
        Ok((
            Page {
                number: n,
                records,
                total,
                per_page: page_size,
            },
            has_next,
        ))
    }
}
