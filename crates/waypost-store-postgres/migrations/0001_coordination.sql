-- waypost's coordination state: claims (leases with fencing tokens), values
-- written under a claim, the idempotent queue and the hash-chained ledgers.
-- Every table lives in the store's schema (the session's search_path).
-- Times are the database's (clock_timestamp()), never a client's.

CREATE TABLE claims (
    namespace text NOT NULL,
    key text NOT NULL,
    fencing_token bigint NOT NULL DEFAULT 0 CHECK (fencing_token >= 0),
    owner_token text,
    -- The holder's identity (JSON, as waypost writes it).
    holder text,
    -- The holder the last claim took over (NULL when it found the key free,
    -- or renewed its own).
    previous_holder text,
    acquired_at timestamptz,
    renewed_at timestamptz,
    lease_ms bigint NOT NULL DEFAULT 0 CHECK (lease_ms >= 0),
    released_at timestamptz,
    transitions bigint NOT NULL DEFAULT 0,
    consecutive_takeovers integer NOT NULL DEFAULT 0,
    PRIMARY KEY (namespace, key),
    CHECK ((owner_token IS NULL) = (holder IS NULL)),
    CHECK (owner_token IS NULL OR renewed_at IS NOT NULL)
);

-- FENCE-003 in the database: a key's counter never goes backwards and its
-- row is never deleted (the counter would restart).
-- The trigger's WHEN clause is evaluated without calling the function, so an
-- update that keeps the counter costs nothing here.
CREATE FUNCTION claims_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'claim `%`: claim rows are never deleted (the fencing counter must not restart)', OLD.key
            USING ERRCODE = 'WPC02';
    END IF;
    RAISE EXCEPTION 'claim `%`: the fencing token may not go back from % to %', OLD.key, OLD.fencing_token, NEW.fencing_token
        USING ERRCODE = 'WPC01';
END $$;
CREATE TRIGGER claims_counter_never_goes_back BEFORE UPDATE ON claims
    FOR EACH ROW WHEN (NEW.fencing_token < OLD.fencing_token) EXECUTE FUNCTION claims_guard();
CREATE TRIGGER claims_rows_are_never_deleted BEFORE DELETE ON claims
    FOR EACH ROW EXECUTE FUNCTION claims_guard();

-- STABLE, as extract() on a timestamptz is: a function no more volatile than
-- its body is inlined into the statements that use it (no call per row).
CREATE FUNCTION unix_ms(t timestamptz) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT floor(extract(epoch FROM t) * 1000)::bigint
$$;

-- One claim, decided under the key's row lock, in one transaction.
-- outcome: claimed (o_took_over names a stale holder taken over), held, exhausted.
-- Clients first try the one-statement form of the same decision (an UPDATE
-- whose WHERE clause admits only a free, own or expired key), and call this
-- when it changes no row: the key is new, held, or out of takeovers.
CREATE FUNCTION claim_key(p_ns text, p_key text, p_owner text, p_holder text, p_lease_ms bigint, p_budget integer)
RETURNS TABLE (o_outcome text, o_token bigint, o_holder text, o_expires_ms bigint, o_took_over text, o_takeovers integer)
LANGUAGE plpgsql AS $$
DECLARE
    r claims%ROWTYPE;
    v_now timestamptz;
    v_owner text := p_owner;
    v_token bigint;
BEGIN
    SELECT * INTO r FROM claims c WHERE c.namespace = p_ns AND c.key = p_key FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO claims (namespace, key) VALUES (p_ns, p_key) ON CONFLICT DO NOTHING;
        SELECT * INTO r FROM claims c WHERE c.namespace = p_ns AND c.key = p_key FOR UPDATE;
    END IF;
    -- The clock is read once the row is ours: waiting for the lock never
    -- makes a lease look younger than it is.
    v_now := clock_timestamp();
    IF r.owner_token = v_owner THEN
        UPDATE claims c SET renewed_at = v_now, lease_ms = p_lease_ms, previous_holder = NULL
            WHERE c.namespace = p_ns AND c.key = p_key;
        RETURN QUERY SELECT 'claimed'::text, r.fencing_token, NULL::text,
            unix_ms(v_now) + p_lease_ms, NULL::text, r.consecutive_takeovers;
        RETURN;
    END IF;
    IF r.owner_token IS NOT NULL
        AND v_now <= r.renewed_at + r.lease_ms * interval '1 millisecond' THEN
        RETURN QUERY SELECT 'held'::text, r.fencing_token, r.holder,
            unix_ms(r.renewed_at) + r.lease_ms, NULL::text, r.consecutive_takeovers;
        RETURN;
    END IF;
    IF r.owner_token IS NOT NULL AND r.consecutive_takeovers >= p_budget THEN
        RETURN QUERY SELECT 'exhausted'::text, r.fencing_token, r.holder,
            unix_ms(r.renewed_at) + r.lease_ms, NULL::text, r.consecutive_takeovers;
        RETURN;
    END IF;
    UPDATE claims c SET
        fencing_token = c.fencing_token + 1,
        owner_token = v_owner,
        holder = p_holder,
        previous_holder = r.holder,
        acquired_at = v_now,
        renewed_at = v_now,
        lease_ms = p_lease_ms,
        transitions = c.transitions + CASE WHEN r.owner_token IS NULL THEN 0 ELSE 1 END,
        consecutive_takeovers = CASE WHEN r.owner_token IS NULL THEN 0 ELSE c.consecutive_takeovers + 1 END
        WHERE c.namespace = p_ns AND c.key = p_key
        RETURNING c.fencing_token INTO v_token;
    RETURN QUERY SELECT 'claimed'::text, v_token, NULL::text, unix_ms(v_now) + p_lease_ms,
        r.holder, CASE WHEN r.owner_token IS NULL THEN 0 ELSE r.consecutive_takeovers + 1 END;
END $$;

-- A claim's record as the client reads it.
CREATE FUNCTION claim_record(p_ns text, p_key text)
RETURNS TABLE (o_token bigint, o_holder text, o_acquired_ms bigint, o_renewed_ms bigint, o_lease_ms bigint,
               o_released_ms bigint, o_transitions bigint, o_takeovers integer)
LANGUAGE sql STABLE AS $$
    SELECT c.fencing_token, c.holder, unix_ms(c.acquired_at), unix_ms(c.renewed_at), c.lease_ms,
           unix_ms(c.released_at), c.transitions, c.consecutive_takeovers
    FROM claims c WHERE c.namespace = p_ns AND c.key = p_key
$$;

-- FENCE-009 in the database: raises WPF01 unless p_token is the token of the
-- key's live holder (by the database's clock), and holds the row (FOR SHARE)
-- until the calling transaction ends, so no claim, renewal or takeover of the
-- key happens in between.
CREATE FUNCTION fence_check(p_ns text, p_key text, p_token bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r claims%ROWTYPE;
    v_live boolean;
BEGIN
    SELECT * INTO r FROM claims c WHERE c.namespace = p_ns AND c.key = p_key FOR SHARE;
    v_live := FOUND AND r.owner_token IS NOT NULL
        AND clock_timestamp() <= r.renewed_at + r.lease_ms * interval '1 millisecond';
    IF NOT v_live OR r.fencing_token <> p_token THEN
        RAISE EXCEPTION 'claim `%`: a write with fencing token % was refused', p_key, p_token
            USING ERRCODE = 'WPF01',
                  DETAIL = CASE WHEN v_live THEN r.fencing_token::text ELSE '' END;
    END IF;
END $$;

-- Values written under a claim: the database refuses a row whose token is not
-- the claim's live one, whoever sends it.
CREATE TABLE fenced_values (
    namespace text NOT NULL,
    claim_key text NOT NULL,
    name text NOT NULL,
    fencing_token bigint NOT NULL,
    value bytea NOT NULL,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (namespace, claim_key, name)
);

CREATE FUNCTION fenced_values_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM fence_check(NEW.namespace, NEW.claim_key, NEW.fencing_token);
    IF TG_OP = 'UPDATE' AND NEW.fencing_token < OLD.fencing_token THEN
        RAISE EXCEPTION 'claim `%`: a write with fencing token % was refused', NEW.claim_key, NEW.fencing_token
            USING ERRCODE = 'WPF01', DETAIL = '';
    END IF;
    NEW.written_at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER fenced_values_guard BEFORE INSERT OR UPDATE ON fenced_values
    FOR EACH ROW EXECUTE FUNCTION fenced_values_guard();

-- FENCE-007: one item per key.
CREATE TABLE queue (
    namespace text NOT NULL,
    key text NOT NULL,
    item jsonb NOT NULL,
    enqueued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (namespace, key)
);

-- FENCE-010 and LEDGER-002 in the database: entries are only ever appended,
-- each continuing the chain of the one before it.
CREATE TABLE ledger_entries (
    namespace text NOT NULL,
    ledger text NOT NULL,
    sequence bigint NOT NULL CHECK (sequence >= 1),
    entry_id text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    entry text NOT NULL,
    appended_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (namespace, ledger, sequence),
    UNIQUE (namespace, ledger, entry_id)
);

CREATE FUNCTION ledger_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_hash text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'ledger entries are appended only; they are never changed or removed'
            USING ERRCODE = 'WPL02';
    END IF;
    SELECT e.sequence, e.hash INTO v_seq, v_hash FROM ledger_entries e
        WHERE e.namespace = NEW.namespace AND e.ledger = NEW.ledger
        ORDER BY e.sequence DESC LIMIT 1;
    v_seq := coalesce(v_seq, 0);
    v_hash := coalesce(v_hash, repeat('0', 64));
    IF NEW.sequence <> v_seq + 1 OR NEW.prev_hash <> v_hash THEN
        RAISE EXCEPTION '% ledger: entry % does not continue the chain (head is % with hash %)',
            NEW.ledger, NEW.sequence, v_seq, v_hash
            USING ERRCODE = 'WPL01';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_guard();
