//! The CPUs a node's sandboxes may run on (`sandbox.cpuset`), as Docker's
//! `cpuset-cpus` writes them: "0", "0-1", "0,2-3". Pinning each worker
//! node's sandboxes to CPUs of its own lets several nodes share one host
//! without sharing CPUs (how the capacity of one node against two is
//! measured on one machine), and the node's slots follow the set's size:
//! a node pinned to one CPU runs one program at a time.

use std::collections::BTreeSet;
use std::fmt;

/// The highest CPU number accepted: far above any host, low enough that a
/// typo ("0-100000") is refused here rather than by the engine at the first
/// container.
const MAX_CPU: u32 = 4095;

/// A non-empty set of CPU numbers, kept in Docker's own notation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuSet {
    /// The setting as written (spaces removed): what Docker receives.
    text: String,
    cpus: BTreeSet<u32>,
}

impl CpuSet {
    /// Parses a list of CPU numbers and ranges, e.g. "0", "0-1", "0,2-3".
    /// Refuses an empty list, an empty item, a reversed range, a number
    /// that is not one and a CPU above [`MAX_CPU`], saying which.
    pub fn parse(text: &str) -> Result<CpuSet, String> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if text.is_empty() {
            return Err("is empty (write CPU numbers and ranges, e.g. \"0\" or \"0-1\")".into());
        }
        let mut cpus = BTreeSet::new();
        for item in text.split(',') {
            let (first, last) = match item.split_once('-') {
                Some((first, last)) => (cpu_number(first, item)?, cpu_number(last, item)?),
                None => {
                    let cpu = cpu_number(item, item)?;
                    (cpu, cpu)
                }
            };
            if first > last {
                return Err(format!(
                    "has the range {item:?}, whose first CPU is above its last"
                ));
            }
            cpus.extend(first..=last);
        }
        Ok(CpuSet { text, cpus })
    }

    /// How many CPUs the set holds (at least one).
    pub fn len(&self) -> usize {
        self.cpus.len()
    }

    /// Never true: a set holds at least one CPU.
    pub fn is_empty(&self) -> bool {
        self.cpus.is_empty()
    }

    /// The set in Docker's notation (`HostConfig.CpusetCpus`).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for CpuSet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

fn cpu_number(text: &str, item: &str) -> Result<u32, String> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!(
            "has {item:?}, which is not a CPU number or a range of them (e.g. \"0\" or \"0-1\")"
        ));
    }
    match text.parse::<u32>() {
        Ok(cpu) if cpu <= MAX_CPU => Ok(cpu),
        _ => Err(format!(
            "names CPU {text}, above the highest accepted ({MAX_CPU})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges_count_their_cpus() {
        for (text, len, docker) in [
            ("0", 1, "0"),
            ("1", 1, "1"),
            ("0-1", 2, "0-1"),
            ("0,2-3", 3, "0,2-3"),
            (" 0 , 1 ", 2, "0,1"),
            ("0-1,1", 2, "0-1,1"),
        ] {
            let set = CpuSet::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
            assert_eq!(set.len(), len, "{text:?}");
            assert_eq!(set.as_str(), docker, "{text:?}");
            assert!(!set.is_empty());
        }
    }

    #[test]
    fn what_is_not_a_cpu_list_is_refused_saying_why() {
        for (text, says) in [
            ("", "is empty"),
            ("  ", "is empty"),
            ("a", "not a CPU number"),
            ("0-", "not a CPU number"),
            ("-1", "not a CPU number"),
            ("0,,1", "not a CPU number"),
            ("1.5", "not a CPU number"),
            ("3-1", "first CPU is above its last"),
            ("0-100000", "above the highest accepted"),
            ("99999999999", "above the highest accepted"),
        ] {
            let error = CpuSet::parse(text).expect_err(text);
            assert!(error.contains(says), "{text:?}: {error}");
        }
    }
}
