//! Builds real `zotero.sqlite` libraries for tests, the way Zotero does:
//! the tables, indexes and triggers of Zotero's own schema files
//! (`../shared/zotero/*.sql`), the system tables filled from its global
//! `schema.json` in Zotero's order (item types in order, fields by first
//! appearance, base-field mappings) — or with the ids of a library created
//! before Zotero's 2019 overhaul (`legacy-ids.json`) — and the user data
//! written row by row as Zotero writes it. Items come from the real arXiv
//! listings in `../shared/corpora`, deterministically.
#![allow(dead_code)]

use rusqlite::{params, Connection};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// Whether the Zotero schema files and the arXiv listings are there.
pub fn available() -> bool {
    shared().join("zotero/userdata.sql").is_file()
        && shared()
            .join("corpora/arxiv/arxiv-2025-cs.jsonl.gz")
            .is_file()
}

pub struct Library {
    pub path: PathBuf,
    pub conn: Connection,
    types: HashMap<String, i64>,
    fields: HashMap<String, i64>,
    creator_types: HashMap<String, i64>,
    next_key: u32,
}

/// One arXiv listing.
#[derive(Clone, Debug)]
pub struct Listing {
    pub id: String,
    pub title: String,
    pub authors: Vec<String>,
    pub abstract_text: String,
    pub date: String,
}

/// The first `n` arXiv listings of the shared corpus.
pub fn arxiv_listings(n: usize) -> Vec<Listing> {
    use std::io::BufRead;
    let file = std::fs::File::open(shared().join("corpora/arxiv/arxiv-2025-cs.jsonl.gz")).unwrap();
    std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
        .take(n)
        .map(|v| Listing {
            id: v["id"].as_str().unwrap_or_default().to_string(),
            title: v["title"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            authors: v["authors"]
                .as_str()
                .unwrap_or_default()
                .split([',', '\n'])
                .flat_map(|a| a.split(" and "))
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
            abstract_text: v["abstract"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            date: v["update_date"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

impl Library {
    /// A new, empty library at `path` (the user's library is libraryID 1).
    pub fn create(path: &Path, legacy_ids: bool) -> Library {
        let _ = std::fs::remove_file(path);
        let conn = Connection::open(path).unwrap();
        let dir = shared().join("zotero");
        for file in ["userdata.sql", "system.sql", "triggers.sql"] {
            let sql = std::fs::read_to_string(dir.join(file)).unwrap();
            conn.execute_batch(&sql)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        let version: i64 = std::fs::read_to_string(dir.join("userdata.sql"))
            .unwrap()
            .lines()
            .next()
            .and_then(|l| l.trim_start_matches("--").trim().parse().ok())
            .unwrap_or(0);
        conn.execute("INSERT INTO version VALUES ('userdata', ?1)", [version])
            .unwrap();
        let mut library = Library {
            path: path.to_path_buf(),
            conn,
            types: HashMap::new(),
            fields: HashMap::new(),
            creator_types: HashMap::new(),
            next_key: 0,
        };
        library.fill_system_tables(legacy_ids);
        library
            .conn
            .execute(
                "INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (1, 'user', 1, 1)",
                [],
            )
            .unwrap();
        library
    }

    /// A library already built, on another connection (one that holds the
    /// lock as Zotero does, say).
    pub fn reopen(conn: Connection, path: &Path) -> Library {
        let map = |sql: &str| -> HashMap<String, i64> {
            let mut statement = conn.prepare(sql).unwrap();
            let rows = statement
                .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(0)?)))
                .unwrap();
            rows.map(Result::unwrap).collect()
        };
        let types = map("SELECT itemTypeID, typeName FROM itemTypes");
        let fields = map("SELECT fieldID, fieldName FROM fields");
        let creator_types = map("SELECT creatorTypeID, creatorType FROM creatorTypes");
        let items: i64 = conn
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .unwrap();
        Library {
            path: path.to_path_buf(),
            conn,
            types,
            fields,
            creator_types,
            next_key: items as u32 + 1000,
        }
    }

    /// Zotero's `_updateGlobalSchema`: types in order, fields by first
    /// appearance (or the legacy ids, new ones after them), type fields in
    /// order, base-field mappings, creator types; then the Combined tables
    /// Zotero fills at start-up.
    fn fill_system_tables(&mut self, legacy_ids: bool) {
        let gz = std::fs::File::open(shared().join("zotero/schema.json.gz")).unwrap();
        let schema: Value = serde_json::from_reader(flate2::read::GzDecoder::new(gz)).unwrap();
        if legacy_ids {
            let legacy: Value = serde_json::from_str(
                &std::fs::read_to_string(shared().join("zotero/legacy-ids.json")).unwrap(),
            )
            .unwrap();
            for (table, map) in [
                ("itemTypes", &mut self.types),
                ("fields", &mut self.fields),
                ("creatorTypes", &mut self.creator_types),
            ] {
                for pair in legacy[table].as_array().into_iter().flatten() {
                    map.insert(
                        pair[1].as_str().unwrap().to_string(),
                        pair[0].as_i64().unwrap(),
                    );
                }
            }
        }
        let next = |map: &HashMap<String, i64>| map.values().max().copied().unwrap_or(0) + 1;
        for item_type in schema["itemTypes"].as_array().unwrap() {
            let name = item_type["itemType"].as_str().unwrap();
            if !self.types.contains_key(name) {
                let id = next(&self.types);
                self.types.insert(name.to_string(), id);
            }
            for field in item_type["fields"].as_array().unwrap() {
                for key in ["field", "baseField"] {
                    if let Some(f) = field[key].as_str() {
                        if !self.fields.contains_key(f) {
                            let id = next(&self.fields);
                            self.fields.insert(f.to_string(), id);
                        }
                    }
                }
            }
            for creator in item_type["creatorTypes"].as_array().unwrap() {
                let c = creator["creatorType"].as_str().unwrap();
                if !self.creator_types.contains_key(c) {
                    let id = next(&self.creator_types);
                    self.creator_types.insert(c.to_string(), id);
                }
            }
        }
        let tx = self.conn.transaction().unwrap();
        for (name, id) in &self.types {
            tx.execute(
                "INSERT INTO itemTypes (itemTypeID, typeName, display) VALUES (?1, ?2, 1)",
                params![id, name],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO itemTypesCombined VALUES (?1, ?2, 1, 0)",
                params![id, name],
            )
            .unwrap();
        }
        for (name, id) in &self.fields {
            tx.execute(
                "INSERT INTO fields (fieldID, fieldName) VALUES (?1, ?2)",
                params![id, name],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO fieldsCombined (fieldID, fieldName, custom) VALUES (?1, ?2, 0)",
                params![id, name],
            )
            .unwrap();
        }
        for (name, id) in &self.creator_types {
            tx.execute(
                "INSERT INTO creatorTypes VALUES (?1, ?2)",
                params![id, name],
            )
            .unwrap();
        }
        for item_type in schema["itemTypes"].as_array().unwrap() {
            let type_id = self.types[item_type["itemType"].as_str().unwrap()];
            for (order, field) in item_type["fields"].as_array().unwrap().iter().enumerate() {
                let field_id = self.fields[field["field"].as_str().unwrap()];
                for table in ["itemTypeFields", "itemTypeFieldsCombined"] {
                    tx.execute(
                        &format!("INSERT INTO {table} VALUES (?1, ?2, NULL, ?3)"),
                        params![type_id, field_id, order as i64],
                    )
                    .unwrap();
                }
                if let Some(base) = field["baseField"].as_str() {
                    for table in ["baseFieldMappings", "baseFieldMappingsCombined"] {
                        tx.execute(
                            &format!("INSERT INTO {table} VALUES (?1, ?2, ?3)"),
                            params![type_id, self.fields[base], field_id],
                        )
                        .unwrap();
                    }
                }
            }
            for creator in item_type["creatorTypes"].as_array().unwrap() {
                let primary = creator["primary"].as_bool().unwrap_or(false) as i64;
                tx.execute(
                    "INSERT INTO itemTypeCreatorTypes VALUES (?1, ?2, ?3)",
                    params![
                        type_id,
                        self.creator_types[creator["creatorType"].as_str().unwrap()],
                        primary
                    ],
                )
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }

    /// An 8-character item key as Zotero makes them (deterministic here).
    fn new_key(&mut self) -> String {
        const ALPHABET: &[u8] = b"23456789ABCDEFGHIJKLMNPQRSTUVWXYZ";
        self.next_key += 1;
        let mut n = self.next_key as usize * 7919;
        (0..8)
            .map(|_| {
                let c = ALPHABET[n % ALPHABET.len()] as char;
                n /= ALPHABET.len();
                n += 13;
                c
            })
            .collect()
    }

    /// A group library named `name`; its libraryID.
    pub fn add_group(&mut self, name: &str) -> i64 {
        self.conn
            .execute(
                "INSERT INTO libraries (type, editable, filesEditable) VALUES ('group', 1, 1)",
                [],
            )
            .unwrap();
        let library = self.conn.last_insert_rowid();
        self.conn
            .execute(
                "INSERT INTO groups (groupID, libraryID, name, description, version) VALUES (?1, ?2, ?3, '', 1)",
                params![1000 + library, library, name],
            )
            .unwrap();
        library
    }

    /// An item of `item_type` with its fields and creators
    /// (`(creatorType, first, last)`); its itemID and key.
    pub fn add_item(
        &mut self,
        library: i64,
        item_type: &str,
        fields: &[(&str, &str)],
        creators: &[(&str, &str, &str)],
    ) -> (i64, String) {
        let key = self.new_key();
        self.conn
            .execute(
                "INSERT INTO items (itemTypeID, libraryID, key) VALUES (?1, ?2, ?3)",
                params![self.types[item_type], library, key],
            )
            .unwrap();
        let item = self.conn.last_insert_rowid();
        for (field, value) in fields {
            self.conn
                .execute(
                    "INSERT OR IGNORE INTO itemDataValues (value) VALUES (?1)",
                    [value],
                )
                .unwrap();
            let value_id: i64 = self
                .conn
                .query_row(
                    "SELECT valueID FROM itemDataValues WHERE value = ?1",
                    [value],
                    |r| r.get(0),
                )
                .unwrap();
            let field_id = *self
                .fields
                .get(*field)
                .unwrap_or_else(|| panic!("no field {field}"));
            self.conn
                .execute(
                    "INSERT INTO itemData VALUES (?1, ?2, ?3)",
                    params![item, field_id, value_id],
                )
                .unwrap();
        }
        for (order, (role, first, last)) in creators.iter().enumerate() {
            let mode = if first.is_empty() { 1 } else { 0 };
            self.conn
                .execute(
                    "INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?1, ?2, ?3)",
                    params![first, last, mode],
                )
                .unwrap();
            let creator: i64 = self
                .conn
                .query_row(
                    "SELECT creatorID FROM creators WHERE firstName = ?1 AND lastName = ?2 AND fieldMode = ?3",
                    params![first, last, mode],
                    |r| r.get(0),
                )
                .unwrap();
            self.conn
                .execute(
                    "INSERT INTO itemCreators VALUES (?1, ?2, ?3, ?4)",
                    params![item, creator, self.creator_types[*role], order as i64],
                )
                .unwrap();
        }
        (item, key)
    }

    /// An arXiv listing as a preprint (or another type), with its authors.
    pub fn add_listing(
        &mut self,
        library: i64,
        item_type: &str,
        listing: &Listing,
        extra: &[(&str, &str)],
    ) -> (i64, String) {
        let url = format!("https://arxiv.org/abs/{}", listing.id);
        let doi = format!("10.48550/arXiv.{}", listing.id);
        let mut fields: Vec<(&str, &str)> = vec![
            ("title", &listing.title),
            ("abstractNote", &listing.abstract_text),
            ("date", &listing.date),
            ("url", &url),
        ];
        if item_type == "preprint" {
            fields.push(("DOI", &doi));
        }
        fields.extend_from_slice(extra);
        let names: Vec<(String, String)> = listing
            .authors
            .iter()
            .map(|a| match a.rsplit_once(' ') {
                Some((first, last)) => (first.to_string(), last.to_string()),
                None => (String::new(), a.clone()),
            })
            .collect();
        let creators: Vec<(&str, &str, &str)> = names
            .iter()
            .map(|(f, l)| ("author", f.as_str(), l.as_str()))
            .collect();
        self.add_item(library, item_type, &fields, &creators)
    }

    /// A collection (under `parent`); its collectionID.
    pub fn add_collection(&mut self, library: i64, name: &str, parent: Option<i64>) -> i64 {
        let key = self.new_key();
        self.conn
            .execute(
                "INSERT INTO collections (collectionName, parentCollectionID, libraryID, key) VALUES (?1, ?2, ?3, ?4)",
                params![name, parent, library, key],
            )
            .unwrap();
        self.conn.last_insert_rowid()
    }

    pub fn collect(&self, collection: i64, item: i64) {
        self.conn
            .execute(
                "INSERT INTO collectionItems (collectionID, itemID) VALUES (?1, ?2)",
                params![collection, item],
            )
            .unwrap();
    }

    pub fn trash(&self, item: i64) {
        self.conn
            .execute("INSERT INTO deletedItems (itemID) VALUES (?1)", [item])
            .unwrap();
    }

    pub fn tag(&self, item: i64, tag: &str) {
        self.conn
            .execute("INSERT OR IGNORE INTO tags (name) VALUES (?1)", [tag])
            .unwrap();
        self.conn
            .execute(
                "INSERT INTO itemTags SELECT ?1, tagID, 0 FROM tags WHERE name = ?2",
                params![item, tag],
            )
            .unwrap();
    }

    /// A child note (HTML, as Zotero stores it).
    pub fn add_note(&mut self, library: i64, parent: i64, html: &str) -> i64 {
        let (note, _) = self.add_item(library, "note", &[], &[]);
        self.conn
            .execute(
                "INSERT INTO itemNotes VALUES (?1, ?2, ?3, '')",
                params![note, parent, html],
            )
            .unwrap();
        note
    }

    /// A stored PDF attachment (`storage:name.pdf`, linkMode 0).
    pub fn add_pdf(&mut self, library: i64, parent: i64, name: &str) -> (i64, String) {
        let (attachment, key) =
            self.add_item(library, "attachment", &[("title", "Full Text PDF")], &[]);
        self.conn
            .execute(
                "INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) VALUES (?1, ?2, 0, 'application/pdf', ?3)",
                params![attachment, parent, format!("storage:{name}")],
            )
            .unwrap();
        (attachment, key)
    }
}

impl Library {
    /// A highlight on a PDF attachment, with a comment, on a page.
    pub fn annotate(
        &mut self,
        library: i64,
        attachment: i64,
        text: &str,
        comment: &str,
        page: &str,
    ) -> i64 {
        let (annotation, _) = self.add_item(library, "annotation", &[], &[]);
        self.conn
            .execute(
                "INSERT INTO itemAnnotations (itemID, parentItemID, type, text, comment, color, pageLabel, sortIndex, position, isExternal) \
                 VALUES (?1, ?2, 1, ?3, ?4, '#ffd400', ?5, ?6, '{}', 0)",
                params![annotation, attachment, text, comment, page, format!("{:05}|000000|00000", page.parse::<u32>().unwrap_or(0))],
            )
            .unwrap();
        annotation
    }
}

/// Better BibTeX's database beside `zotero.sqlite`, with these keys.
pub fn better_bibtex(dir: &Path, keys: &[(i64, &str, &str)]) {
    let conn = Connection::open(dir.join("better-bibtex.sqlite")).unwrap();
    conn.execute_batch(
        "CREATE TABLE citationkey (itemID NOT NULL PRIMARY KEY, itemKey NOT NULL, libraryID NOT NULL, \
         citationKey NOT NULL CHECK (citationKey <> ''), pinned CHECK (pinned in (0, 1)))",
    )
    .unwrap();
    for (n, (library, item_key, key)) in keys.iter().enumerate() {
        conn.execute(
            "INSERT INTO citationkey VALUES (?1, ?2, ?3, ?4, 0)",
            params![n as i64 + 1, item_key, library, key],
        )
        .unwrap();
    }
}
