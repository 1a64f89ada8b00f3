//! The run's worklists, review.csv and resolutions.csv: rendered into memory
//! for a run that rewrites its files before publishing (a role's masks or
//! row scope, column templates, named reports, the workbook), or written
//! into the staging directory as they are made, so that neither their bytes
//! nor the worklist's items are ever held whole (408 MB of the two files at
//! 10M orders).

use std::io::Write;

use crate::matching::{Reconciliation, Sides};
use crate::output::atomic::PublishError;
use crate::output::causes::LikelyCauses;
use crate::output::resolutions::{self, Resolved};
use crate::output::review::{self, Confirmation, Prints, ReviewItem, ReviewStatus};
use crate::output::tables::RenderTo;
use crate::rules::Plan;

/// What the worklists' rendering leaves for the rest of the run.
pub(super) struct Worklists {
    /// The worklist's items, when rendered into memory (a role's row scope
    /// cuts them); none when written as they were made.
    pub items: Vec<ReviewItem>,
    /// Confirmations of the worklist's items.
    pub status: ReviewStatus,
    /// review.csv, unless written already.
    pub review_csv: Vec<u8>,
    /// resolutions.csv; when written already, its header and the rows
    /// report.html shows (the first `resolutions::BLOCK`).
    pub resolutions_csv: Vec<u8>,
    /// The files written already: name and SHA-256.
    pub written: Vec<(&'static str, String)>,
}

/// What the worklists are made from.
pub(super) struct Sources<'a> {
    pub sides: Sides<'a>,
    pub result: &'a Reconciliation,
    pub prints: &'a Prints,
    pub resolved: &'a Resolved,
    pub plan: &'a Plan,
    pub causes: &'a LikelyCauses,
    pub confirmations: &'a [Confirmation],
}

/// Renders both worklists, side by side, where `to` says.
pub(super) fn render(s: &Sources, to: RenderTo) -> Result<Worklists, PublishError> {
    let staging = match to {
        RenderTo::Memory => {
            let ((items, (review_csv, status)), resolutions_csv) = rayon::join(
                || {
                    let items = review::items(s.sides, s.result, s.prints);
                    let rendered = review::render(&items, s.confirmations);
                    (items, rendered)
                },
                || s.resolved.render(s.sides, s.plan, s.causes),
            );
            return Ok(Worklists {
                items,
                status,
                review_csv,
                resolutions_csv,
                written: Vec::new(),
            });
        }
        RenderTo::Staging(staging) => staging,
    };
    let (review, resolutions) = rayon::join(
        || {
            let mut file = staging.create(review::FILE_NAME)?;
            // A staging file keeps its first error for `finish`.
            let status = review::render_in_blocks(s.sides, s.result, s.prints, s.confirmations, |block| {
                let _ = file.write_all(&block);
            });
            Ok::<_, PublishError>((status, file.finish()?))
        },
        || {
            let mut file = staging.create(resolutions::FILE_NAME)?;
            let mut head = Vec::new();
            let mut blocks = 0;
            s.resolved.render_in_blocks(s.sides, s.plan, s.causes, |block| {
                let _ = file.write_all(&block);
                if blocks < 2 {
                    head.extend_from_slice(&block);
                }
                blocks += 1;
            });
            Ok::<_, PublishError>((head, file.finish()?))
        },
    );
    let (status, review_sha256) = review?;
    let (resolutions_csv, resolutions_sha256) = resolutions?;
    Ok(Worklists {
        items: Vec::new(),
        status,
        review_csv: Vec::new(),
        resolutions_csv,
        written: vec![
            (review::FILE_NAME, review_sha256),
            (resolutions::FILE_NAME, resolutions_sha256),
        ],
    })
}
