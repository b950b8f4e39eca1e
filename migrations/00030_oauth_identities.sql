-- +goose Up

-- Whether the user ever chose a password. Accounts created by an OAuth/OIDC
-- sign-in or by SCIM provisioning get a random hash nobody knows (so that
-- password checks take the same time for them) and password_set = false;
-- they can set one with the "forgot password" e-mail. Unlinking the last
-- sign-in identity of such an account is refused.
ALTER TABLE users ADD COLUMN password_set boolean NOT NULL DEFAULT true;

-- Any change of the hash (a password reset) means the user chose it.
-- +goose StatementBegin
CREATE FUNCTION users_mark_password_set() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.password_set := true;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER users_password_set BEFORE UPDATE OF password_hash ON users
    FOR EACH ROW WHEN (NEW.password_hash IS DISTINCT FROM OLD.password_hash)
    EXECUTE FUNCTION users_mark_password_set();

-- External sign-in identities (Google, Microsoft, GitHub, an OpenID Connect
-- provider) linked to users. Not a tenant table: a person's identities
-- belong to them, across organizations. An identity is keyed by the
-- provider, the issuer that vouched for it (Microsoft's differs per tenant;
-- a generic provider's may change) and the subject the issuer gave it.
CREATE TABLE user_identities (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider     text NOT NULL CHECK (provider ~ '^[a-z0-9-]{1,40}$'),
    issuer       text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
    subject      text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    -- The address the provider reported at the last sign-in, for display.
    email        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    UNIQUE (provider, issuer, subject),
    -- One identity per provider and user keeps the account page simple.
    UNIQUE (user_id, provider)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON user_identities TO accute_app;

-- +goose Down
DROP TABLE user_identities;
DROP TRIGGER users_password_set ON users;
DROP FUNCTION users_mark_password_set();
ALTER TABLE users DROP COLUMN password_set;
