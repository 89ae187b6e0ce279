//! Reading a Prometheus text page (the admin listener's `/metrics`): its samples, by series or by metric
//! name and labels.

use std::fmt;

/// One sample line: `name{label="value",...} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    /// Sorted by label name.
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of the label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(label, _)| label == name).map(|(_, value)| value.as_str())
    }
}

/// The samples of one page. Comment lines (`# HELP`, `# TYPE`) and lines that are not samples are skipped.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    samples: Vec<Sample>,
}

impl Metrics {
    pub fn parse(text: &str) -> Self {
        Self { samples: text.lines().filter_map(sample).collect() }
    }

    /// The value of one series, written as the page writes it: `name` or `name{label="value",...}` (the
    /// labels in any order). `None` when the page does not have it.
    pub fn get(&self, series: &str) -> Option<f64> {
        let (series, rest) = parse_series(series.trim())?;
        if !rest.trim().is_empty() {
            return None;
        }
        let sample = self.samples.iter().find(|sample| sample.name == series.name && sample.labels == series.labels);
        sample.map(|sample| sample.value)
    }

    /// [`Metrics::get`], with 0 for a series the page does not have: a counter or histogram that has not
    /// recorded anything yet is not written at all.
    pub fn value(&self, series: &str) -> f64 {
        self.get(series).unwrap_or(0.0)
    }

    /// Every sample of the metric `name`, whatever its labels.
    pub fn samples<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |sample| sample.name == name)
    }
}

impl fmt::Display for Metrics {
    /// The samples, one a line, for failure messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for sample in &self.samples {
            let labels: Vec<String> = sample.labels.iter().map(|(name, value)| format!("{name}={value:?}")).collect();
            writeln!(f, "{}{{{}}} {}", sample.name, labels.join(","), sample.value)?;
        }
        Ok(())
    }
}

/// The `/metrics` page of the admin listener at `admin_url`.
#[cfg(feature = "testing")]
pub async fn scrape(client: &reqwest::Client, admin_url: &str) -> String {
    let response = client.get(format!("{admin_url}/metrics")).send().await;
    let response = response.unwrap_or_else(|error| panic!("no /metrics at {admin_url}: {error}"));
    response.text().await.expect("a metrics page")
}

fn sample(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.starts_with('#') {
        return None;
    }
    let (series, rest) = parse_series(line)?;
    // A timestamp may follow the value.
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some(Sample { name: series.name.to_owned(), labels: series.labels, value })
}

/// A metric name and its labels, sorted by name.
struct Series<'a> {
    name: &'a str,
    labels: Vec<(String, String)>,
}

/// The series at the start of `text`, and what follows it.
fn parse_series(text: &str) -> Option<(Series<'_>, &str)> {
    let end = text.find(|c: char| c == '{' || c.is_whitespace()).unwrap_or(text.len());
    let (name, mut rest) = text.split_at(end);
    if name.is_empty() {
        return None;
    }
    let mut labels = Vec::new();
    if let Some(inside) = rest.strip_prefix('{') {
        rest = inside;
        loop {
            rest = rest.trim_start_matches([',', ' ']);
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let (label, after) = rest.split_once("=\"")?;
            let (value, after) = label_value(after)?;
            labels.push((label.trim().to_owned(), value));
            rest = after;
        }
    }
    labels.sort();
    Some((Series { name, labels }, rest))
}

/// A quoted label value (after its opening quote), unescaped, and what follows its closing quote.
fn label_value(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    loop {
        match chars.next()? {
            (at, '"') => return Some((value, &text[at + 1..])),
            (_, '\\') => match chars.next()?.1 {
                'n' => value.push('\n'),
                escaped => value.push(escaped),
            },
            (_, c) => value.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# HELP rookery_http_requests_total HTTP requests\n\
        # TYPE rookery_http_requests_total counter\n\
        rookery_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"} 3\n\
        rookery_http_requests_total{method=\"POST\",route=\"/api/tweets\",status=\"201\"} 2\n\
        rookery_fanout_delivery_lag_seconds_sum 0.25\n\
        rookery_fanout_delivery_lag_seconds_count 1\n\
        rookery_queue_depth{queue=\"a \\\"quoted\\\" name\"} 0 1700000000000\n";

    #[test]
    fn reads_a_series_with_or_without_labels_in_any_order() {
        let metrics = Metrics::parse(PAGE);
        assert_eq!(
            metrics.get(r#"rookery_http_requests_total{status="201",route="/api/tweets",method="POST"}"#),
            Some(2.0)
        );
        assert_eq!(
            metrics.get(r#"rookery_http_requests_total{method="POST",route="/api/tweets",status="201"}"#),
            Some(2.0)
        );
        assert_eq!(metrics.get("rookery_fanout_delivery_lag_seconds_count"), Some(1.0));
        assert_eq!(metrics.get("rookery_fanout_delivery_lag_seconds_sum"), Some(0.25));
        assert_eq!(metrics.get(r#"rookery_queue_depth{queue="a \"quoted\" name"}"#), Some(0.0));
    }

    #[test]
    fn a_series_not_on_the_page_is_none_or_zero() {
        let metrics = Metrics::parse(PAGE);
        // A prefix of a name, or a subset of the labels, is another series.
        assert_eq!(metrics.get("rookery_fanout_delivery_lag_seconds"), None);
        assert_eq!(metrics.get(r#"rookery_http_requests_total{method="POST"}"#), None);
        assert_eq!(metrics.value("rookery_tweets_refused_total"), 0.0);
    }

    #[test]
    fn lists_a_metrics_samples_with_their_labels() {
        let metrics = Metrics::parse(PAGE);
        let routes: Vec<_> = metrics.samples("rookery_http_requests_total").filter_map(|s| s.label("route")).collect();
        assert_eq!(routes, ["/metrics", "/api/tweets"]);
        let total: f64 = metrics.samples("rookery_http_requests_total").map(|s| s.value).sum();
        assert_eq!(total, 5.0);
    }
}
