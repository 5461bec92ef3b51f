//! A Zotero library (`zotero.sqlite`) as a corpus source, read-only.
//!
//! Papers are the regular items of every library in the database (the
//! user's and the groups'), or of one collection with its subcollections;
//! never attachments, notes or annotations, never what is in the trash.
//! Everything is looked up by name (item types, fields, base-field
//! mappings, creator types), never by id: ids differ between libraries
//! created before and after Zotero's 2019 schema overhaul, and custom
//! fields get ids of their own.
//!
//! Zotero keeps its database locked (`locking_mode=EXCLUSIVE`) while it
//! runs. A library that cannot be read in place is copied, with its `-wal`
//! (recent writes live there until a checkpoint), into the cache; the copy
//! is checked (`PRAGMA quick_check`) before it is read, and Zotero's own
//! `zotero.sqlite.bak` is the last resort. The user's files are only ever
//! opened read-only; nothing is written to them.
//!
//! Citation keys are the ones the user sees in Zotero: Zotero 8's native
//! `citationKey` field; with Better BibTeX, the `citationkey` table of
//! `better-bibtex.sqlite` beside the database; a `Citation Key: …` line in
//! `extra`; else none, and the corpus makes one up as for other sources.

use super::paper::{first_year, Paper, Person, Problem, Severity};
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where a corpus entry points in a Zotero library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoteroSource {
    /// The `zotero.sqlite` file.
    pub database: PathBuf,
    /// `Thesis/Chapter 2`, `@Group name` or `@Group name/Collection`: one
    /// collection (with its subcollections) or one group library.
    pub selector: Option<String>,
}

/// The file name Zotero gives its database.
pub const DATABASE_FILE: &str = "zotero.sqlite";
/// Better BibTeX's database, beside Zotero's.
const BETTER_BIBTEX_FILE: &str = "better-bibtex.sqlite";

impl ZoteroSource {
    /// The Zotero source a corpus path names: `…/zotero.sqlite`, a Zotero
    /// data folder (one holding `zotero.sqlite`), either followed by
    /// `#selector`. `None` for anything else.
    pub fn from_path(path: &Path) -> Option<ZoteroSource> {
        let text = path.to_str()?;
        let (base, selector) = match text.split_once('#') {
            Some((base, selector)) => (base, Some(selector.trim().to_string())),
            None => (text, None),
        };
        let base = Path::new(base);
        let database = if base.file_name().is_some_and(|n| n == DATABASE_FILE) {
            base.to_path_buf()
        } else if base.join(DATABASE_FILE).is_file() {
            base.join(DATABASE_FILE)
        } else {
            return None;
        };
        Some(ZoteroSource {
            database,
            selector: selector.filter(|s| !s.is_empty()),
        })
    }

    /// The files whose changes change the library: the database and its
    /// write-ahead log.
    pub fn watched_files(&self) -> [PathBuf; 2] {
        [self.database.clone(), wal_of(&self.database)]
    }
}

/// A number that changes whenever what a read of `source` would give may
/// have changed, computed without opening the database (Zotero may hold it
/// locked): each file's length, modification time and SQLite header, for
/// the database, its `-wal`, Better BibTeX's database and its `-wal`, and
/// the base folder of linked files. A commit grows the `-wal` or, once the
/// log has been checkpointed and restarts, changes the salts in its header;
/// a database without a log changes its header's change counter.
/// `None` when the database is not there.
pub fn state_fingerprint(source: &ZoteroSource) -> Option<u64> {
    use std::io::Read;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(source.database.to_string_lossy().as_bytes());
    hasher.update(source.selector.as_deref().unwrap_or("").as_bytes());
    let better_bibtex = source.database.with_file_name(BETTER_BIBTEX_FILE);
    let files = [
        (source.database.clone(), 100),
        (wal_of(&source.database), 32),
        (better_bibtex.clone(), 100),
        (wal_of(&better_bibtex), 32),
    ];
    for (n, (path, header_len)) in files.into_iter().enumerate() {
        let Ok(meta) = std::fs::metadata(&path) else {
            if n == 0 {
                return None;
            }
            hasher.update(b"-");
            continue;
        };
        hasher.update(&meta.len().to_le_bytes());
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        hasher.update(&modified.as_nanos().to_le_bytes());
        let mut header = vec![0u8; header_len];
        let read = std::fs::File::open(&path).and_then(|mut f| f.read(&mut header));
        hasher.update(&header[..read.unwrap_or(0)]);
    }
    if let Some(base) = attachment_base_dir() {
        hasher.update(base.to_string_lossy().as_bytes());
    }
    Some(hasher.digest())
}

fn wal_of(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// The default Zotero data directory: the one the Zotero profile's
/// `prefs.js` names (`extensions.zotero.dataDir` when
/// `extensions.zotero.useDataDir` is on), else `~/Zotero`.
pub fn default_data_dir() -> Option<PathBuf> {
    profile_prefs()
        .iter()
        .find_map(|prefs| data_dir_in_prefs(prefs))
        .or_else(|| Some(dirs::home_dir()?.join("Zotero")))
}

/// The data directory a `prefs.js` sets, if it sets one and uses it.
pub fn data_dir_in_prefs(prefs: &str) -> Option<PathBuf> {
    if pref_value(prefs, "extensions.zotero.useDataDir").as_deref() != Some("true") {
        return None;
    }
    pref_path(prefs, "extensions.zotero.dataDir")
}

/// The raw value of `user_pref("name", value);` in a `prefs.js`.
fn pref_value(prefs: &str, name: &str) -> Option<String> {
    prefs.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix("user_pref(")?
            .trim_start()
            .strip_prefix(&format!("\"{name}\""))?;
        let rest = rest.trim_start().strip_prefix(',')?.trim();
        let rest = rest.strip_suffix(';').unwrap_or(rest).trim_end();
        let rest = rest.strip_suffix(')')?.trim();
        Some(rest.to_string())
    })
}

/// A path-valued preference (a quoted string, backslashes escaped).
fn pref_path(prefs: &str, name: &str) -> Option<PathBuf> {
    let value = pref_value(prefs, name)?;
    let value = value.strip_prefix('"')?.strip_suffix('"')?;
    Some(PathBuf::from(value.replace("\\\\", "\\")))
}

/// Where a library item leads: its PDFs on disk and the item in Zotero.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LibraryLinks {
    /// Its PDF attachments that are on disk: stored files
    /// (`storage/<key>/<name>`) and linked files.
    pub pdfs: Vec<PathBuf>,
    /// `zotero://select/…` for the item (groups too).
    pub select: String,
    /// Its child notes, as plain text.
    pub notes: Vec<String>,
    /// The annotations of its PDFs, in reading order.
    pub annotations: Vec<Annotation>,
}

/// A highlight or note made on a PDF in Zotero's reader.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotation {
    /// The highlighted text.
    pub text: String,
    pub comment: String,
    pub page: String,
}

/// What one read of a library gave.
pub struct ZoteroLoad {
    pub papers: Vec<Paper>,
    /// The links of each paper, in the same order.
    pub links: Vec<LibraryLinks>,
    pub problems: Vec<Problem>,
    /// A hash of what was read, so an unchanged library is known as such.
    pub content_hash: u64,
    /// The library's [`state_fingerprint`] while it was read, when it held
    /// still throughout and the read was of the library itself (not of
    /// Zotero's backup): what a parsed copy of this read may be kept under.
    pub state: Option<u64>,
}

/// Reads the papers of `source`; `file` is the source's index in its corpus
/// and `copies` a folder of ours where a locked database is copied to.
/// `Err` when the library cannot be read at all.
pub fn load_zotero(
    file: usize,
    source: &ZoteroSource,
    copies: &Path,
) -> Result<ZoteroLoad, Problem> {
    let whole = |message: String| Problem {
        file: source.database.clone(),
        line: 0,
        severity: Severity::Error,
        message,
    };
    if !source.database.is_file() {
        return Err(whole(format!(
            "no Zotero database here ({} does not exist)",
            source.database.display()
        )));
    }
    let mut problems = Vec::new();
    let state_before = state_fingerprint(source);
    let (connection, mut read_from) =
        open_readable(&source.database, copies, &mut problems).map_err(whole)?;
    let keys = better_bibtex_keys(&source.database, copies, &mut problems);
    let data_dir = source
        .database
        .parent()
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let cannot_read = |e: rusqlite::Error| whole(format!("cannot read the Zotero library: {e}"));
    let read = match read_library(&connection, source, &keys, file, &data_dir) {
        Ok(read) => read,
        // Damage that opening did not meet shows when the pages are read.
        Err(e) if is_damage(&e) && read_from == ReadFrom::Library => {
            let why = format!("the Zotero database cannot be read ({e})");
            let (backup, from) =
                open_backup(&source.database, copies, &why, &mut problems).map_err(whole)?;
            read_from = from;
            read_library(&backup, source, &keys, file, &data_dir).map_err(cannot_read)?
        }
        Err(e) => return Err(cannot_read(e)),
    };
    problems.extend(read.problems.into_iter().map(|message| Problem {
        file: source.database.clone(),
        line: 0,
        severity: Severity::Warning,
        message,
    }));
    let held_still = read_from == ReadFrom::Library && state_fingerprint(source) == state_before;
    Ok(ZoteroLoad {
        papers: read.papers,
        links: read.links,
        problems,
        content_hash: read.content_hash,
        state: state_before.filter(|_| held_still),
    })
}

/// Which database a connection reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReadFrom {
    /// The library itself, read-only, or a checked copy of it.
    Library,
    /// Zotero's `zotero.sqlite.bak`, perhaps days old.
    Backup,
}

/// A connection that can read the library now: the database itself,
/// read-only, if Zotero is not holding it; else a checked copy; else (or
/// when the database itself is damaged) Zotero's backup.
fn open_readable(
    database: &Path,
    copies: &Path,
    problems: &mut Vec<Problem>,
) -> Result<(Connection, ReadFrom), String> {
    match open_read_only(database) {
        Ok(connection) => return Ok((connection, ReadFrom::Library)),
        Err(e) if is_damage(&e) => {
            let why = format!("the Zotero database cannot be read ({e})");
            return open_backup(database, copies, &why, problems);
        }
        Err(e) if !is_locked(&e) => {
            return Err(format!("cannot open the Zotero database: {e}"));
        }
        Err(_) => {}
    }
    match copy_and_open(database, copies) {
        Ok(connection) => Ok((connection, ReadFrom::Library)),
        Err(why) => {
            let why = format!(
                "the Zotero database is locked (Zotero is running) and a copy of it could not \
                 be read ({why})"
            );
            open_backup(database, copies, &why, problems)
        }
    }
}

/// Zotero's backup of `database`, checked, after `why` (the library itself
/// cannot be read), which a warning repeats.
fn open_backup(
    database: &Path,
    copies: &Path,
    why: &str,
    problems: &mut Vec<Problem>,
) -> Result<(Connection, ReadFrom), String> {
    let backup = database.with_extension("sqlite.bak");
    let connection = copy_and_open(&backup, copies)
        .map_err(|backup_why| format!("{why}; nor could Zotero's backup ({backup_why})"))?;
    problems.push(Problem {
        file: database.to_path_buf(),
        line: 0,
        severity: Severity::Warning,
        message: format!(
            "{why}; read Zotero's backup {} instead, which may be a few days old",
            backup.display()
        ),
    });
    Ok((connection, ReadFrom::Backup))
}

/// A database whose pages do not hold together (or that is not one).
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// A page cache large enough for a large library's item tables: reading
/// items joins several tables by id, which misses SQLite's default 2 MB
/// cache at every turn (a third of the read time at 10,000 items).
const READ_CACHE: &str = "PRAGMA cache_size = -131072";

fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Zotero holds its lock for as long as it runs: waiting longer than a
    // moment for it only delays reading a copy.
    connection.busy_timeout(std::time::Duration::from_millis(50))?;
    // Not mapped: a file another process may truncate must not be (SIGBUS).
    connection.execute_batch(READ_CACHE)?;
    // Opening is lazy: a locked database shows itself at the first read.
    connection.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    Ok(connection)
}

fn is_locked(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Copies the database (and its `-wal`) into `copies`, checks the copy and
/// opens it. The copy is ours: opening it replays the log into it.
fn copy_and_open(database: &Path, copies: &Path) -> Result<Connection, String> {
    if !database.is_file() {
        return Err(format!("{} does not exist", database.display()));
    }
    let folder = copies.join(format!(
        "{:016x}",
        xxhash_rust::xxh3::xxh3_64(database.to_string_lossy().as_bytes())
    ));
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("cannot make {}: {e}", folder.display()))?;
    let name = database.file_name().unwrap_or(DATABASE_FILE.as_ref());
    let copy = folder.join(name);
    let copy_wal = wal_of(&copy);
    let _ = std::fs::remove_file(&copy_wal);
    let mut shm = copy.clone().into_os_string();
    shm.push("-shm");
    let _ = std::fs::remove_file(shm);
    std::fs::copy(database, &copy).map_err(|e| format!("cannot copy it: {e}"))?;
    let wal = wal_of(database);
    if wal.is_file() {
        std::fs::copy(&wal, &copy_wal).map_err(|e| format!("cannot copy its -wal: {e}"))?;
    }
    let connection = Connection::open(&copy).map_err(|e| e.to_string())?;
    // The copy is ours and nobody else writes it: mapping it is safe.
    connection
        .execute_batch(&format!("{READ_CACHE}; PRAGMA mmap_size = 1073741824"))
        .map_err(|e| e.to_string())?;
    let check: String = connection
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(|e| format!("the copy is damaged: {e}"))?;
    if check != "ok" {
        return Err(format!("the copy is damaged: {check}"));
    }
    Ok(connection)
}

/// Better BibTeX's keys, by library and item key, from the
/// `better-bibtex.sqlite` beside the database (empty when there is none).
fn better_bibtex_keys(
    database: &Path,
    copies: &Path,
    problems: &mut Vec<Problem>,
) -> HashMap<(i64, String), String> {
    let path = database.with_file_name(BETTER_BIBTEX_FILE);
    let mut keys = HashMap::new();
    // Locked too while Zotero runs: then read from a checked copy.
    let connection = match open_read_only(&path) {
        Ok(connection) => connection,
        Err(e) if is_locked(&e) => match copy_and_open(&path, copies) {
            Ok(connection) => connection,
            Err(why) => {
                problems.push(Problem {
                    file: path.clone(),
                    line: 0,
                    severity: Severity::Warning,
                    message: format!(
                        "Better BibTeX's database is locked and a copy of it could not be read \
                         ({why}); its citation keys are not used this time"
                    ),
                });
                return keys;
            }
        },
        Err(_) => return keys,
    };
    let Ok(mut statement) =
        connection.prepare("SELECT libraryID, itemKey, citationKey FROM citationkey")
    else {
        return keys;
    };
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
        ))
    });
    if let Ok(rows) = rows {
        for (library, item, key) in rows.flatten() {
            if !key.trim().is_empty() {
                keys.insert((library, item), key.trim().to_string());
            }
        }
    }
    keys
}

struct LibraryRead {
    papers: Vec<Paper>,
    links: Vec<LibraryLinks>,
    problems: Vec<String>,
    content_hash: u64,
}

/// One regular item as read.
#[derive(Default)]
struct Item {
    key: String,
    library: i64,
    item_type: String,
    type_id: i64,
    /// Field name → value, with each type-specific field also under its
    /// base field's name (`proceedingsTitle` also as `publicationTitle`).
    fields: HashMap<String, String>,
    /// (role, person), in order.
    creators: Vec<(Role, Person)>,
    tags: Vec<String>,
    pdfs: Vec<PathBuf>,
    notes: Vec<String>,
    annotations: Vec<Annotation>,
}

fn read_library(
    connection: &Connection,
    source: &ZoteroSource,
    bbt_keys: &HashMap<(i64, String), String>,
    file: usize,
    data_dir: &Path,
) -> rusqlite::Result<LibraryRead> {
    let mut problems = Vec::new();
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let table = |name: &str| -> rusqlite::Result<String> {
        // Zotero fills the *Combined tables (built-in and custom types and
        // fields) at start-up; a database never opened by Zotero has only
        // the plain ones.
        let combined = format!("{name}Combined");
        let filled: i64 = connection
            .query_row(&format!("SELECT count(*) FROM {combined}"), [], |r| {
                r.get(0)
            })
            .unwrap_or(0);
        Ok(if filled > 0 {
            combined
        } else {
            name.to_string()
        })
    };
    let (item_types, fields, base_mappings) = (
        table("itemTypes")?,
        table("fields")?,
        table("baseFieldMappings")?,
    );
    let wanted = selected_items(connection, source, &mut problems)?;
    let mut items: HashMap<i64, Item> = HashMap::new();
    {
        let mut statement = connection.prepare(&format!(
            "SELECT i.itemID, i.key, i.libraryID, t.typeName, i.itemTypeID FROM items i \
             JOIN {item_types} t ON t.itemTypeID = i.itemTypeID \
             WHERE t.typeName NOT IN ('attachment', 'note', 'annotation') \
             AND i.itemID NOT IN (SELECT itemID FROM deletedItems) ORDER BY i.itemID"
        ))?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?;
        for row in rows {
            let (id, key, library, item_type, type_id) = row?;
            if wanted.as_ref().is_some_and(|w| !w.contains(&id)) {
                continue;
            }
            items.insert(
                id,
                Item {
                    key,
                    library,
                    item_type,
                    type_id,
                    ..Item::default()
                },
            );
        }
    }
    let field_names: HashMap<i64, String> = {
        let mut statement =
            connection.prepare(&format!("SELECT fieldID, fieldName FROM {fields}"))?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // Base field of each (item type, field): `bookTitle` of a book section
    // is its `publicationTitle`.
    let base_of: HashMap<(i64, i64), i64> = {
        let mut statement = connection.prepare(&format!(
            "SELECT itemTypeID, fieldID, baseFieldID FROM {base_mappings}"
        ))?;
        let rows = statement.query_map([], |row| Ok(((row.get(0)?, row.get(1)?), row.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    {
        // Every value goes into the content hash; only the fields a paper
        // is made of are kept (a library has ~20 fields an item).
        let mut statement = connection.prepare(
            "SELECT d.itemID, d.fieldID, v.value FROM itemData d \
             JOIN itemDataValues v ON v.valueID = d.valueID ORDER BY d.itemID, d.fieldID",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let (id, field): (i64, i64) = (row.get(0)?, row.get(1)?);
            let Some(item) = items.get_mut(&id) else {
                continue;
            };
            let value: std::borrow::Cow<'_, str> = match row.get_ref(2)? {
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t),
                rusqlite::types::ValueRef::Integer(i) => i.to_string().into(),
                rusqlite::types::ValueRef::Real(r) => r.to_string().into(),
                _ => "".into(),
            };
            let name = field_names.get(&field).map_or("", String::as_str);
            hasher.update(&id.to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update(value.as_bytes());
            let base = base_of
                .get(&(item.type_id, field))
                .and_then(|b| field_names.get(b))
                .filter(|b| PAPER_FIELDS.contains(&b.as_str()));
            if let Some(base) = base {
                if !item.fields.contains_key(base.as_str()) {
                    item.fields.insert(base.clone(), value.to_string());
                }
            }
            if PAPER_FIELDS.contains(&name) {
                item.fields.insert(name.to_string(), value.into_owned());
            }
        }
    }
    let roles: HashMap<i64, Role> = {
        let mut statement =
            connection.prepare("SELECT creatorTypeID, creatorType FROM creatorTypes")?;
        let rows = statement.query_map([], |row| {
            let name: String = row.get(1)?;
            Ok((row.get(0)?, Role::of(&name)))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    {
        let mut statement = connection.prepare(
            "SELECT ic.itemID, ic.creatorTypeID, c.firstName, c.lastName, c.fieldMode \
             FROM itemCreators ic JOIN creators c ON c.creatorID = ic.creatorID \
             ORDER BY ic.itemID, ic.orderIndex",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                row.get::<_, Option<String>>(3)?.unwrap_or_default(),
                row.get::<_, Option<i64>>(4)?.unwrap_or(0),
            ))
        })?;
        for row in rows {
            let (id, role, given, family, mode) = row?;
            let Some(item) = items.get_mut(&id) else {
                continue;
            };
            let role = roles.get(&role).copied().unwrap_or(Role::Other);
            hasher.update(&id.to_le_bytes());
            hasher.update(given.as_bytes());
            hasher.update(family.as_bytes());
            // fieldMode 1: one field, a name that is not split (an institution).
            let person = if mode == 1 {
                Person {
                    given: String::new(),
                    family: family.trim().to_string(),
                }
            } else {
                Person {
                    given: given.trim().to_string(),
                    family: family.trim().to_string(),
                }
            };
            item.creators.push((role, person));
        }
    }
    {
        let mut statement = connection.prepare(
            "SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID \
             ORDER BY it.itemID, t.name",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, tag) = row?;
            if let Some(item) = items.get_mut(&id) {
                hasher.update(tag.as_bytes());
                item.tags.push(tag);
            }
        }
    }
    {
        let base = attachment_base_dir();
        let mut statement = connection.prepare(
            "SELECT a.parentItemID, i.key, a.linkMode, a.path FROM itemAttachments a \
             JOIN items i ON i.itemID = a.itemID \
             WHERE a.contentType = 'application/pdf' AND a.parentItemID IS NOT NULL \
             AND a.itemID NOT IN (SELECT itemID FROM deletedItems) ORDER BY a.itemID",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<i64>>(2)?.unwrap_or(0),
                row.get::<_, Option<String>>(3)?.unwrap_or_default(),
            ))
        })?;
        for row in rows {
            let (parent, key, mode, path) = row?;
            let Some(item) = items.get_mut(&parent) else {
                continue;
            };
            if let Some(pdf) = attachment_file(data_dir, base.as_deref(), &key, mode, &path) {
                item.pdfs.push(pdf);
            }
        }
    }
    {
        let mut statement = connection.prepare(
            "SELECT n.parentItemID, n.note FROM itemNotes n \
             WHERE n.parentItemID IS NOT NULL AND n.itemID NOT IN (SELECT itemID FROM deletedItems) \
             ORDER BY n.itemID",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Option<String>>(1)?.unwrap_or_default(),
            ))
        })?;
        for row in rows {
            let (parent, html) = row?;
            if let Some(item) = items.get_mut(&parent) {
                let text = html_to_text(&html);
                if !text.is_empty() {
                    item.notes.push(text);
                }
            }
        }
    }
    {
        let mut statement = connection.prepare(
            "SELECT a.parentItemID, n.text, n.comment, n.pageLabel FROM itemAnnotations n \
             JOIN itemAttachments a ON a.itemID = n.parentItemID \
             WHERE n.itemID NOT IN (SELECT itemID FROM deletedItems) \
             ORDER BY a.itemID, n.sortIndex",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, Option<i64>>(0)?,
                row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                row.get::<_, Option<String>>(3)?.unwrap_or_default(),
            ))
        })?;
        for row in rows {
            let (Some(parent), text, comment, page) = row? else {
                continue;
            };
            if let Some(item) = items.get_mut(&parent) {
                item.annotations.push(Annotation {
                    text,
                    comment,
                    page,
                });
            }
        }
    }
    let groups: HashMap<i64, i64> = {
        let mut statement = connection.prepare("SELECT libraryID, groupID FROM groups")?;
        let rows =
            statement.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    if let Ok(version) = connection.query_row(
        "SELECT version FROM version WHERE schema = 'userdata'",
        [],
        |row| row.get::<_, i64>(0),
    ) {
        if !(KNOWN_USERDATA_VERSIONS).contains(&version) {
            problems.push(format!(
                "this Zotero database has schema version {version}, which paper-ls has not met \
                 before; it read what it could"
            ));
        }
    }
    let mut ids: Vec<i64> = items.keys().copied().collect();
    ids.sort_unstable();
    let mut papers = Vec::with_capacity(ids.len());
    let mut links = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(mut item) = items.remove(&id) else {
            continue;
        };
        let select = match groups.get(&item.library) {
            Some(group) => format!("zotero://select/groups/{group}/items/{}", item.key),
            None => format!("zotero://select/library/items/{}", item.key),
        };
        links.push(LibraryLinks {
            pdfs: std::mem::take(&mut item.pdfs),
            select,
            notes: std::mem::take(&mut item.notes),
            annotations: std::mem::take(&mut item.annotations),
        });
        let mut paper = paper_of(item, bbt_keys, file);
        // Keeps the papers in this order through the corpus's sort, so
        // their links can be found again by position.
        paper.origin.span = papers.len()..papers.len();
        papers.push(paper);
    }
    Ok(LibraryRead {
        papers,
        links,
        problems,
        content_hash: hasher.digest(),
    })
}

/// The `userdata` schema versions of the Zotero releases paper-ls was
/// built against (Zotero 7 and 8).
const KNOWN_USERDATA_VERSIONS: std::ops::RangeInclusive<i64> = 120..=129;

/// The items the selector takes (`None`: all of them). An unknown
/// collection or group is a problem and selects nothing.
fn selected_items(
    connection: &Connection,
    source: &ZoteroSource,
    problems: &mut Vec<String>,
) -> rusqlite::Result<Option<std::collections::HashSet<i64>>> {
    let Some(selector) = source.selector.as_deref() else {
        return Ok(None);
    };
    let (group, path) = match selector.strip_prefix('@') {
        Some(rest) => match rest.split_once('/') {
            Some((group, path)) => (Some(group.trim()), path.trim()),
            None => (Some(rest.trim()), ""),
        },
        None => (None, selector.trim()),
    };
    let library: i64 = match group {
        Some(name) => {
            let found = connection.query_row(
                "SELECT libraryID FROM groups WHERE name = ?1",
                [name],
                |row| row.get(0),
            );
            match found {
                Ok(id) => id,
                Err(rusqlite::Error::QueryReturnedNoRows) => {
                    problems.push(format!("no group library is named “{name}”"));
                    return Ok(Some(Default::default()));
                }
                Err(e) => return Err(e),
            }
        }
        None => connection
            .query_row(
                "SELECT libraryID FROM libraries WHERE type = 'user' ORDER BY libraryID LIMIT 1",
                [],
                |row| row.get(0),
            )
            .unwrap_or(1),
    };
    let mut items = std::collections::HashSet::new();
    if path.is_empty() {
        let mut statement = connection.prepare("SELECT itemID FROM items WHERE libraryID = ?1")?;
        for id in statement.query_map([library], |row| row.get::<_, i64>(0))? {
            items.insert(id?);
        }
        return Ok(Some(items));
    }
    // Collections of the library: id → (name, parent).
    let mut collections: HashMap<i64, (String, Option<i64>)> = HashMap::new();
    {
        let mut statement = connection.prepare(
            "SELECT collectionID, collectionName, parentCollectionID FROM collections \
             WHERE libraryID = ?1 AND collectionID NOT IN \
             (SELECT collectionID FROM deletedCollections)",
        )?;
        let rows = statement.query_map([library], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })?;
        for row in rows {
            let (id, name, parent) = row?;
            collections.insert(id, (name, parent));
        }
    }
    let names: Vec<&str> = path
        .split('/')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let mut parent: Option<i64> = None;
    for name in &names {
        let next = collections
            .iter()
            .filter(|(_, (n, p))| n == name && *p == parent)
            .map(|(id, _)| *id)
            .min();
        match next {
            Some(id) => parent = Some(id),
            None => {
                problems.push(format!("no collection “{path}” in the Zotero library"));
                return Ok(Some(items));
            }
        }
    }
    let Some(top) = parent else {
        return Ok(Some(items));
    };
    let mut chosen = vec![top];
    let mut i = 0;
    while i < chosen.len() {
        let current = chosen[i];
        chosen.extend(
            collections
                .iter()
                .filter(|(_, (_, p))| *p == Some(current))
                .map(|(id, _)| *id),
        );
        i += 1;
    }
    let mut statement =
        connection.prepare("SELECT itemID FROM collectionItems WHERE collectionID = ?1")?;
    for collection in chosen {
        for id in statement.query_map([collection], |row| row.get::<_, i64>(0))? {
            items.insert(id?);
        }
    }
    Ok(Some(items))
}

/// Zotero's base folder for linked files (`extensions.zotero.baseAttachmentPath`
/// in the profile's `prefs.js`), if one is set.
fn attachment_base_dir() -> Option<PathBuf> {
    profile_prefs()
        .iter()
        .find_map(|prefs| pref_path(prefs, "extensions.zotero.baseAttachmentPath"))
}

/// The `prefs.js` of every Zotero profile (Linux, macOS, Windows places),
/// in a stable order.
fn profile_prefs() -> Vec<String> {
    let Some(home) = dirs::home_dir() else {
        return Vec::new();
    };
    let roots = [
        home.join(".zotero/zotero"),
        home.join("Library/Application Support/Zotero/Profiles"),
        dirs::config_dir()
            .unwrap_or_default()
            .join("Zotero/Zotero/Profiles"),
    ];
    let mut prefs = Vec::new();
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        let mut profiles: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        profiles.sort();
        prefs.extend(
            profiles
                .iter()
                .filter_map(|p| std::fs::read_to_string(p.join("prefs.js")).ok()),
        );
    }
    prefs
}

/// The file of a PDF attachment, if it is on disk: a stored file
/// (`storage:name.pdf`, in `storage/<key>/`), or a linked file (an
/// absolute path, or `attachments:relative` under the base folder).
fn attachment_file(
    data_dir: &Path,
    base: Option<&Path>,
    key: &str,
    mode: i64,
    path: &str,
) -> Option<PathBuf> {
    let file = if let Some(name) = path.strip_prefix("storage:") {
        // A stored file is a plain name inside the item's folder.
        if name.contains(['/', '\\']) || name == ".." || key.contains(['/', '\\', '.']) {
            return None;
        }
        data_dir.join("storage").join(key).join(name)
    } else if let Some(relative) = path.strip_prefix("attachments:") {
        base?.join(relative)
    } else if mode == 2 || Path::new(path).is_absolute() {
        PathBuf::from(path)
    } else {
        return None;
    };
    file.is_file().then_some(file)
}

/// A Zotero note's HTML as plain text: tags dropped, paragraphs and line
/// breaks kept as line breaks, the common entities decoded.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[at + 1..at + end]
            .trim_start_matches('/')
            .to_ascii_lowercase();
        let name = tag.split([' ', '/']).next().unwrap_or("");
        if matches!(
            name,
            "p" | "br" | "div" | "li" | "h1" | "h2" | "h3" | "h4" | "blockquote"
        ) && !out.ends_with('\n')
            && !out.is_empty()
        {
            out.push('\n');
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a creator is to the work, from Zotero's creator type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// An author, or whatever stands for one in its item type (a
    /// presentation's presenter, a film's director, a patent's inventor).
    Author,
    Editor,
    /// A translator, a series editor, a book's author for a chapter, …
    Other,
}

impl Role {
    fn of(creator_type: &str) -> Role {
        match creator_type {
            "editor" => Role::Editor,
            t if SECONDARY_CREATORS.contains(&t) => Role::Other,
            _ => Role::Author,
        }
    }
}

/// Creator types that are not the work's authors.
const SECONDARY_CREATORS: &[&str] = &[
    "editor",
    "seriesEditor",
    "translator",
    "contributor",
    "reviewedAuthor",
    "bookAuthor",
    "counsel",
    "guest",
    "interviewer",
    "recipient",
    "cosponsor",
    "wordsBy",
    "castMember",
    "commenter",
];

fn paper_of(item: Item, bbt_keys: &HashMap<(i64, String), String>, file: usize) -> Paper {
    let field = |name: &str| {
        item.fields
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut paper = Paper::titled(
        field("title").unwrap_or_default(),
        entry_type(&item.item_type),
    );
    let extra = field("extra").unwrap_or_default();
    let key = field("citationKey")
        .or_else(|| bbt_keys.get(&(item.library, item.key.clone())).cloned())
        .or_else(|| extra_value(&extra, "Citation Key"));
    if let Some(key) = key {
        paper.key = key;
        paper.key_origin = super::KeyOrigin::Source;
    }
    let authors: Vec<Person> = item
        .creators
        .iter()
        .filter(|(role, _)| *role == Role::Author)
        .map(|(_, p)| p.clone())
        .collect();
    paper.authors = if authors.is_empty() {
        let editors: Vec<Person> = item
            .creators
            .iter()
            .filter(|(role, _)| *role == Role::Editor)
            .map(|(_, p)| p.clone())
            .collect();
        paper.authors_are_editors = !editors.is_empty();
        editors
    } else {
        authors
    };
    paper.year = field("date").as_deref().and_then(first_year);
    paper.venue = ["publicationTitle", "publisher", "university", "institution"]
        .iter()
        .find_map(|name| field(name));
    paper.abstract_text = field("abstractNote");
    paper.ids.doi = field("DOI").or_else(|| extra_value(&extra, "DOI"));
    paper.ids.url = field("url");
    paper.ids.arxiv = arxiv_id(&item, &extra);
    paper.categories = item.tags;
    paper.origin.file = file;
    paper
}

/// The fields (or base fields) a paper is made of (see [`paper_of`]).
const PAPER_FIELDS: &[&str] = &[
    "title",
    "extra",
    "citationKey",
    "date",
    "publicationTitle",
    "publisher",
    "university",
    "institution",
    "abstractNote",
    "DOI",
    "url",
    "archiveID",
];

/// Zotero's item types as BibTeX-style entry types.
fn entry_type(item_type: &str) -> &'static str {
    match item_type {
        "journalArticle" | "magazineArticle" | "newspaperArticle" => "article",
        "conferencePaper" => "inproceedings",
        "book" => "book",
        "bookSection" | "encyclopediaArticle" | "dictionaryEntry" => "incollection",
        "thesis" => "phdthesis",
        "report" => "techreport",
        "preprint" => "misc",
        _ => "misc",
    }
}

/// `Name: value` on a line of `extra` (the name in any case).
fn extra_value(extra: &str, name: &str) -> Option<String> {
    extra.lines().find_map(|line| {
        let (label, value) = line.split_once(':')?;
        (label.trim().eq_ignore_ascii_case(name) && !value.trim().is_empty())
            .then(|| value.trim().to_string())
    })
}

/// The arXiv id from `archiveID` (`arXiv:2101.00001`), `extra`
/// (`arXiv: 2101.00001`) or an arxiv.org URL.
fn arxiv_id(item: &Item, extra: &str) -> Option<String> {
    let strip = |id: &str| {
        let id = id.trim();
        let id = id
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case("arxiv:"))
            .map_or(id, |_| &id[6..]);
        (!id.trim().is_empty()).then(|| id.trim().to_string())
    };
    if let Some(id) = item.fields.get("archiveID").and_then(|a| strip(a)) {
        return Some(id);
    }
    if let Some(id) = extra_value(extra, "arXiv").and_then(|a| strip(&a)) {
        return Some(id);
    }
    let url = item.fields.get("url")?;
    let at = url.to_ascii_lowercase().find("arxiv.org/abs/")? + "arxiv.org/abs/".len();
    let id = url[at..].split(['?', '#']).next()?.trim_end_matches('/');
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_dir_comes_from_prefs_when_zotero_uses_it() {
        let prefs = "user_pref(\"extensions.zotero.dataDir\", \"/data/Zot\");\n\
                     user_pref(\"extensions.zotero.useDataDir\", true);\n";
        assert_eq!(data_dir_in_prefs(prefs), Some(PathBuf::from("/data/Zot")));
        let unused = "user_pref(\"extensions.zotero.dataDir\", \"/data/Zot\");\n";
        assert_eq!(data_dir_in_prefs(unused), None);
    }

    #[test]
    fn sources_are_named_by_database_or_folder_and_a_selector() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DATABASE_FILE), b"").unwrap();
        let by_folder = ZoteroSource::from_path(&dir.path().join("#Thesis/Chapter 2")).unwrap();
        assert_eq!(by_folder.database, dir.path().join(DATABASE_FILE));
        assert_eq!(by_folder.selector.as_deref(), Some("Thesis/Chapter 2"));
        let by_file = ZoteroSource::from_path(&dir.path().join(DATABASE_FILE)).unwrap();
        assert_eq!(by_file.selector, None);
        assert_eq!(ZoteroSource::from_path(Path::new("refs.bib")), None);
    }

    #[test]
    fn notes_lose_their_markup_but_not_their_lines() {
        let html = "<div data-schema-version=\"9\"><h1>Key idea</h1><p>Slow &amp; steady<br/>wins</p></div>";
        assert_eq!(html_to_text(html), "Key idea\nSlow & steady\nwins");
    }

    #[test]
    fn extra_lines_and_urls_give_keys_and_arxiv_ids() {
        let extra = "tex.note: x\nCitation Key: smith2020\narXiv: 2101.00001v2";
        assert_eq!(
            extra_value(extra, "citation key").as_deref(),
            Some("smith2020")
        );
        let item = Item {
            fields: [(
                "url".to_string(),
                "https://arxiv.org/abs/2203.1/".to_string(),
            )]
            .into(),
            ..Item::default()
        };
        assert_eq!(arxiv_id(&item, "").as_deref(), Some("2203.1"));
        assert_eq!(arxiv_id(&item, extra).as_deref(), Some("2101.00001v2"));
    }
}
