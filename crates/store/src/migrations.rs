//! The schema, as numbered migrations in SQL that SQLite and PostgreSQL both accept: the same
//! statements run on both (BIGINT, TEXT, INTEGER; no engine-specific types or defaults).

/// (version, name, statements). Applied in order, each once, recorded in `schema_migrations`.
pub const MIGRATIONS: &[(i64, &str, &[&str])] = &[
    (
        1,
        "transit movements, events, notifications, api keys, audit log, idempotency",
        &[
            "CREATE TABLE movements (
            id BIGINT PRIMARY KEY,
            lrn TEXT NOT NULL,
            mrn TEXT UNIQUE,
            departure_country TEXT NOT NULL,
            status TEXT NOT NULL,
            body TEXT NOT NULL,
            event_count BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE (departure_country, lrn)
        )",
            "CREATE TABLE movement_countries (
            movement_id BIGINT NOT NULL,
            country TEXT NOT NULL,
            PRIMARY KEY (movement_id, country)
        )",
            "CREATE INDEX movement_countries_country ON movement_countries (country, movement_id)",
            "CREATE TABLE events (
            movement_id BIGINT NOT NULL,
            seq BIGINT NOT NULL,
            type TEXT NOT NULL,
            office TEXT NOT NULL,
            at_utc TEXT NOT NULL,
            zone TEXT NOT NULL,
            body TEXT NOT NULL,
            recorded_at BIGINT NOT NULL,
            PRIMARY KEY (movement_id, seq)
        )",
            "CREATE TABLE notifications (
            id BIGINT PRIMARY KEY,
            country TEXT NOT NULL,
            movement_id BIGINT NOT NULL,
            body TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )",
            "CREATE INDEX notifications_country ON notifications (country, id)",
            "CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            key_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            country TEXT,
            name TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )",
            "CREATE TABLE audit_log (
            seq BIGINT PRIMARY KEY,
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            body_sha256 TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )",
            "CREATE TABLE idempotency (
            actor TEXT NOT NULL,
            key TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (actor, key)
        )",
        ],
    ),
    (
        2,
        "webhooks: push the notification feed to an administration's URL",
        &["CREATE TABLE webhooks (
            country TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            delivered_after BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )"],
    ),
    (
        3,
        "declarations: the NCTS declaration (CC015C) a movement was lodged with, for its release",
        &["CREATE TABLE declarations (
            movement_id BIGINT PRIMARY KEY REFERENCES movements (id),
            message TEXT NOT NULL
        )"],
    ),
    (
        4,
        "idempotency keys bound to their request (method, path, body)",
        &["ALTER TABLE idempotency ADD COLUMN request_sha256 TEXT NOT NULL DEFAULT ''"],
    ),
    (
        5,
        "audit entries vouch for the rows they wrote; signed checkpoints of the chain's head",
        &[
            "ALTER TABLE audit_log ADD COLUMN record TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit_log ADD COLUMN record_sha256 TEXT NOT NULL DEFAULT ''",
            "CREATE TABLE audit_checkpoints (
            seq BIGINT PRIMARY KEY,
            hash TEXT NOT NULL,
            at BIGINT NOT NULL,
            public_key TEXT NOT NULL,
            signature TEXT NOT NULL
        )",
        ],
    ),
    (
        6,
        "invalidation requests: the CC014C a decision after release (CC009C) answers",
        &["CREATE TABLE invalidation_requests (
            movement_id BIGINT PRIMARY KEY REFERENCES movements (id),
            message TEXT NOT NULL
        )"],
    ),
    (
        7,
        "users: people who sign in to the console, with a role, an administration and offices",
        &["CREATE TABLE users (
            id TEXT PRIMARY KEY,
            login TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            country TEXT,
            offices TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            failed_attempts BIGINT NOT NULL,
            locked_until BIGINT,
            disabled_at BIGINT,
            created_at BIGINT NOT NULL
        )"],
    ),
    (
        8,
        "the movements board: every office on a route, the lodging instant, indexes for filters",
        &[
            "CREATE TABLE movement_offices (
            movement_id BIGINT NOT NULL,
            office TEXT NOT NULL,
            PRIMARY KEY (movement_id, office)
        )",
            "CREATE INDEX movement_offices_office ON movement_offices (office, movement_id)",
            "ALTER TABLE movements ADD COLUMN lodged_at BIGINT NOT NULL DEFAULT 0",
            "CREATE INDEX movements_status ON movements (status, id)",
            "CREATE INDEX movements_lodged_at ON movements (lodged_at)",
        ],
    ),
    (
        9,
        "console sessions: a signed-in person's cookie (hashed), its CSRF token and expiry; the last notification each person has seen",
        &[
            "CREATE TABLE sessions (
            token_sha256 TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users (id),
            csrf TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        )",
            "CREATE INDEX sessions_expires_at ON sessions (expires_at)",
            "ALTER TABLE users ADD COLUMN notifications_seen BIGINT NOT NULL DEFAULT 0",
        ],
    ),
    (
        10,
        "Time Release Studies run from the console, with their reports",
        &[
            "CREATE TABLE trs_studies (
            id TEXT PRIMARY KEY,
            owner TEXT,
            name TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            status TEXT NOT NULL,
            message TEXT NOT NULL,
            consignments BIGINT NOT NULL,
            report TEXT NOT NULL
        )",
            "CREATE INDEX trs_studies_owner ON trs_studies (owner, created_at)",
        ],
    ),
    (
        11,
        "risk configuration files of each administration, versioned",
        &["CREATE TABLE risk_files (
            country TEXT NOT NULL,
            name TEXT NOT NULL,
            version BIGINT NOT NULL,
            body TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (country, name, version)
        )"],
    ),
    (
        12,
        "the Master Trainer Programme: people and levels, courses, exercises, enrolments, answer keys, attempts, certificates and the secret that signs them",
        &[
            "CREATE TABLE mtp_people (
            user_id TEXT PRIMARY KEY REFERENCES users (id),
            country TEXT NOT NULL,
            level TEXT NOT NULL,
            accredited_on TEXT,
            expires_on TEXT,
            trained_by TEXT,
            updated_at BIGINT NOT NULL
        )",
            "CREATE TABLE mtp_courses (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            trainer TEXT NOT NULL REFERENCES users (id),
            country TEXT NOT NULL,
            place TEXT NOT NULL,
            language TEXT NOT NULL,
            level TEXT NOT NULL,
            starts_on TEXT NOT NULL,
            ends_on TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )",
            "CREATE INDEX mtp_courses_trainer ON mtp_courses (trainer)",
            "CREATE TABLE mtp_exercises (
            course_id TEXT NOT NULL REFERENCES mtp_courses (id),
            number BIGINT NOT NULL,
            title TEXT NOT NULL,
            definition TEXT NOT NULL,
            seed BIGINT NOT NULL,
            PRIMARY KEY (course_id, number)
        )",
            "CREATE TABLE mtp_enrolments (
            course_id TEXT NOT NULL REFERENCES mtp_courses (id),
            user_id TEXT NOT NULL REFERENCES users (id),
            enrolled_at BIGINT NOT NULL,
            PRIMARY KEY (course_id, user_id)
        )",
            "CREATE INDEX mtp_enrolments_user ON mtp_enrolments (user_id)",
            "CREATE TABLE mtp_keys (
            course_id TEXT NOT NULL,
            number BIGINT NOT NULL,
            user_id TEXT NOT NULL,
            key TEXT NOT NULL,
            opened_at BIGINT NOT NULL,
            PRIMARY KEY (course_id, number, user_id)
        )",
            "CREATE TABLE mtp_attempts (
            id TEXT PRIMARY KEY,
            course_id TEXT NOT NULL,
            number BIGINT NOT NULL,
            user_id TEXT NOT NULL,
            submitted_at BIGINT NOT NULL,
            seconds_spent BIGINT NOT NULL,
            submission TEXT NOT NULL,
            score_tenths BIGINT NOT NULL,
            passed BIGINT NOT NULL,
            outcome TEXT NOT NULL
        )",
            "CREATE INDEX mtp_attempts_course ON mtp_attempts (course_id, user_id)",
            "CREATE TABLE mtp_certificates (
            code TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users (id),
            course_id TEXT NOT NULL REFERENCES mtp_courses (id),
            body TEXT NOT NULL,
            date TEXT NOT NULL,
            country TEXT NOT NULL,
            issued_by TEXT NOT NULL,
            issued_at BIGINT NOT NULL
        )",
            "CREATE TABLE mtp_secret (
            id BIGINT PRIMARY KEY,
            secret TEXT NOT NULL
        )",
        ],
    ),
    (
        13,
        "risk on the route: the goods of each movement, assessments queued and done per administration, control results",
        &[
            "CREATE TABLE consignments (
            movement_id BIGINT PRIMARY KEY,
            body TEXT NOT NULL
        )",
            "CREATE TABLE risk_queue (
            id BIGINT PRIMARY KEY,
            movement_id BIGINT NOT NULL,
            country TEXT NOT NULL,
            office TEXT NOT NULL,
            trigger_event TEXT NOT NULL,
            as_of BIGINT NOT NULL
        )",
            "CREATE TABLE risk_assessments (
            id BIGINT PRIMARY KEY,
            movement_id BIGINT NOT NULL,
            country TEXT NOT NULL,
            lane TEXT NOT NULL,
            body TEXT NOT NULL,
            assessed_at BIGINT NOT NULL
        )",
            "CREATE INDEX risk_assessments_country ON risk_assessments (country, movement_id)",
            "CREATE TABLE control_results (
            id BIGINT PRIMARY KEY,
            movement_id BIGINT NOT NULL,
            country TEXT NOT NULL,
            body TEXT NOT NULL,
            recorded_by TEXT NOT NULL,
            recorded_at BIGINT NOT NULL
        )",
            "CREATE INDEX control_results_country ON control_results (country, movement_id)",
            // Assessments and control results go to their administration's feed only: the
            // coordinator, who reads every feed, does not read these.
            "ALTER TABLE notifications ADD COLUMN confidential BIGINT NOT NULL DEFAULT 0",
        ],
    ),
];

/// Data a migration derives from what is already stored (run in the migration's transaction).
pub const BACKFILLS: &[i64] = &[8];
