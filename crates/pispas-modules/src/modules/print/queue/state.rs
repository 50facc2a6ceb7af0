//! A print job's life: `QUEUED → PRINTING → DELIVERED`, or `WAITING` for the printer, or
//! `FAILED`, `CANCELLED`, `EXPIRED`. Text only at the store and the wire.

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Accepted and stored, in line.
    Queued,
    /// Its bytes are going out now (in memory; the store keeps `sending_at`, after which a crash
    /// makes the job FAILED `PRINT_INTERRUPTED` instead of printing it again).
    Printing,
    /// The printer cannot print now; the job prints when it can.
    Waiting,
    Delivered,
    Failed,
    Cancelled,
    /// Not printed within PRINT_RESUME_WINDOW; it never will be.
    Expired,
}

impl JobState {
    pub const ALL: [JobState; 7] = [
        JobState::Queued,
        JobState::Printing,
        JobState::Waiting,
        JobState::Delivered,
        JobState::Failed,
        JobState::Cancelled,
        JobState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "QUEUED",
            JobState::Printing => "PRINTING",
            JobState::Waiting => "WAITING",
            JobState::Delivered => "DELIVERED",
            JobState::Failed => "FAILED",
            JobState::Cancelled => "CANCELLED",
            JobState::Expired => "EXPIRED",
        }
    }

    /// The state for its text; `None` for text that is not a state.
    pub fn parse(text: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Nothing more happens to the job.
    pub fn is_final(self) -> bool {
        match self {
            JobState::Delivered | JobState::Failed | JobState::Cancelled | JobState::Expired => {
                true
            }
            JobState::Queued | JobState::Printing | JobState::Waiting => false,
        }
    }

    /// A PRINT request stops waiting for its job here.
    pub fn settles_the_reply(self) -> bool {
        self.is_final() || self == JobState::Waiting
    }

    /// The reply to the request is a FAILURE.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            JobState::Failed | JobState::Cancelled | JobState::Expired
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_text() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::parse("queued"), None);
    }

    #[test]
    fn waiting_settles_a_reply_without_being_final() {
        assert!(JobState::Waiting.settles_the_reply());
        assert!(!JobState::Waiting.is_final());
        assert!(JobState::Expired.is_failure());
        assert!(!JobState::Delivered.is_failure());
    }
}
