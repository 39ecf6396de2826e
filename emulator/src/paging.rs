//! Paging for list operations. Tokens are opaque to clients. Here they carry the offset of the
//! next item, so a page boundary stays valid while the list does not change.

const TOKEN_PREFIX: &str = "emulator-page-";

/// A page size outside the operation's limits, or a token this emulator did not issue.
#[derive(Debug, PartialEq)]
pub enum PagingError {
    InvalidToken,
}

/// Returns the page of `items` that starts at `token` and its token for the next page.
pub fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    page_size: usize,
) -> Result<(Vec<T>, Option<String>), PagingError> {
    let offset = match token {
        None | Some("") => 0,
        Some(token) => parse_token(token).ok_or(PagingError::InvalidToken)?,
    };
    if offset > items.len() {
        return Err(PagingError::InvalidToken);
    }
    let end = (offset + page_size.max(1)).min(items.len());
    let next = (end < items.len()).then(|| format!("{TOKEN_PREFIX}{end}"));
    Ok((items[offset..end].to_vec(), next))
}

fn parse_token(token: &str) -> Option<usize> {
    token.strip_prefix(TOKEN_PREFIX)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_through_items() {
        let items: Vec<u32> = (0..5).collect();
        let (first, token) = page(&items, None, 2).expect("first page");
        assert_eq!(first, vec![0, 1]);
        let (second, token) = page(&items, token.as_deref(), 2).expect("second page");
        assert_eq!(second, vec![2, 3]);
        let (last, token) = page(&items, token.as_deref(), 2).expect("last page");
        assert_eq!(last, vec![4]);
        assert_eq!(token, None);
    }

    #[test]
    fn rejects_foreign_tokens() {
        let items = [1, 2, 3];
        assert_eq!(page(&items, Some("abc"), 2), Err(PagingError::InvalidToken));
        assert_eq!(
            page(&items, Some("emulator-page-9"), 2),
            Err(PagingError::InvalidToken)
        );
    }

    #[test]
    fn empty_list_has_no_next_token() {
        let items: [u8; 0] = [];
        assert_eq!(page(&items, None, 20), Ok((Vec::new(), None)));
    }
}
