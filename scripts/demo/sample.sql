-- A realistic, deterministic sample for `make demo`: 5,000 users with a
-- nested profile and tags, exposed as v_user (a view) and tv_user (a table
-- kept in step by triggers), both made by the extension's helpers.
CREATE TABLE users (
    id          bigint PRIMARY KEY,
    email       text NOT NULL UNIQUE,
    name        text NOT NULL,
    status      text NOT NULL,
    age         int,
    score       numeric(6,2),
    created_at  timestamptz NOT NULL,
    profile     jsonb NOT NULL,
    tags        text[] NOT NULL
);

INSERT INTO users
SELECT g,
       format('user%s@example.com', g),
       (ARRAY['Ada','Grace','Linus','Edsger','Barbara','Ken','Margaret','Dennis','Frances','Niklaus'])[1 + g % 10]
         || ' ' || (ARRAY['Lovelace','Hopper','Torvalds','Dijkstra','Liskov','Thompson','Hamilton','Ritchie','Allen','Wirth'])[1 + (g / 10) % 10],
       (ARRAY['active','active','active','invited','banned'])[1 + g % 5],
       CASE WHEN g % 17 = 0 THEN NULL ELSE 18 + (g * 7) % 60 END,
       round(((g * 37) % 10000) / 100.0, 2),
       timestamptz '2024-01-01 00:00:00+00' + (g * interval '97 minutes'),
       jsonb_build_object(
           'city', (ARRAY['Lyon','Zürich','Kraków','Montréal','São Paulo','Oslo'])[1 + g % 6],
           'country', (ARRAY['FR','CH','PL','CA','BR','NO'])[1 + g % 6],
           'languages', ((ARRAY['["fr","en"]','["de","en"]','["pl","en"]','["fr","en"]','["pt","es"]','["no","en"]'])[1 + g % 6])::jsonb,
           'newsletter', g % 3 = 0),
       CASE WHEN g % 4 = 0 THEN ARRAY['admin','beta'] WHEN g % 4 = 1 THEN ARRAY['beta'] ELSE ARRAY[]::text[] END
FROM generate_series(1, 5000) AS g;

CREATE INDEX users_status_idx ON users (status);
CREATE INDEX users_age_idx ON users (age);
ANALYZE users;

SELECT fraiseql_wire.create_view('user', 'users');
SELECT fraiseql_wire.create_table_view('user', 'users');
