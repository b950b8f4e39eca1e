-- +goose Up

-- Identity documents (KYC) are shown in the portal to their uploader only.
-- That was decided by the kyc_documents row, which goes with the portal
-- link (unlinking a user, or removing the member, deletes it): the
-- passport then became an ordinary document of the client, listed to its
-- other portal users. The mark now lives on the document itself and stays.
ALTER TABLE documents ADD COLUMN identity boolean NOT NULL DEFAULT false;

SELECT set_config('app.platform', 'on', true);
UPDATE documents d SET identity = true
FROM kyc_documents k
WHERE k.organization_id = d.organization_id AND k.document_id = d.id;

-- +goose StatementBegin
CREATE FUNCTION kyc_documents_mark_identity() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE documents SET identity = true
    WHERE organization_id = NEW.organization_id AND id = NEW.document_id AND NOT identity;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER kyc_documents_mark_identity AFTER INSERT ON kyc_documents
    FOR EACH ROW EXECUTE FUNCTION kyc_documents_mark_identity();

-- +goose Down
DROP TRIGGER kyc_documents_mark_identity ON kyc_documents;
DROP FUNCTION kyc_documents_mark_identity();
ALTER TABLE documents DROP COLUMN identity;
