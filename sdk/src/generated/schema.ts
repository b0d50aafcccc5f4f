// Generated from server/openapi.json by `npm run generate -w sdk`. Do not edit.
export interface paths {
    "/api/v1/audit-logs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Who changed what in the organization, newest first */
        get: operations["listAuditLogs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List API keys (never their secrets) */
        get: operations["listApiKeys"];
        put?: never;
        /** Create an API key; the key is shown once */
        post: operations["createApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an API key (it stops working at once) */
        delete: operations["revokeApiKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/magic-link": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Email a sign-in link (the answer is the same whether or not the address has an account) */
        post: operations["requestMagicLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Exchange a sign-in link token for a session cookie */
        post: operations["verifyMagicLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End this session */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The signed-in user, their organizations and the current one */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your active sessions, newest first */
        get: operations["listSessions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** End one of your sessions (for example on a lost device) */
        delete: operations["revokeSession"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The organization's members and their roles */
        get: operations["listMembers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/members/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a member (only owners remove owners; the last owner stays) */
        delete: operations["removeMember"];
        options?: never;
        head?: never;
        /** Change a member's role (only owners grant or take the owner role; the last owner stays) */
        patch: operations["updateMemberRole"];
        trace?: never;
    };
    "/api/v1/organizations/{id}/leave": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Leave an organization (the last owner cannot) */
        post: operations["leaveOrganization"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/organizations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The organizations you belong to, with your role */
        get: operations["listMyOrganizations"];
        put?: never;
        /** Create an organization; you become its owner */
        post: operations["createOrganization"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/organizations/current": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Settings of the organization this request acts in */
        get: operations["getCurrentOrganization"];
        put?: never;
        post?: never;
        /** Delete the organization and all its data (owner only; confirm with the slug). Access ends at once; data is purged in the background */
        delete: operations["deleteCurrentOrganization"];
        options?: never;
        head?: never;
        /** Change name, slug, locale, postal address or sender defaults */
        patch: operations["updateCurrentOrganization"];
        trace?: never;
    };
    "/api/v1/invitations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Invitations of the organization, newest first */
        get: operations["listInvitations"];
        put?: never;
        /** Invite someone by email; the link expires in 7 days */
        post: operations["createInvitation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/invitations/{id}/resend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a fresh link (the previous one stops working) valid for another 7 days */
        post: operations["resendInvitation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/invitations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Withdraw an invitation */
        delete: operations["revokeInvitation"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/invitations/details": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** What an invitation link is for (organization, role, inviter, expiry), shown before accepting; changes nothing */
        post: operations["describeInvitation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/invitations/accept": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Accept an invitation: join the organization and sign in */
        post: operations["acceptInvitation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/platform/organizations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every organization (platform operators only) */
        get: operations["listAllOrganizations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/platform/organizations/{id}/suspend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Suspend an organization: its keys and sessions get 403 organization_suspended */
        post: operations["suspendOrganization"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/platform/organizations/{id}/unsuspend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Lift a suspension */
        post: operations["unsuspendOrganization"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tags": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List tags, newest first */
        get: operations["listTags"];
        put?: never;
        /** Create a tag */
        post: operations["createTag"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tags/by-name/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Find a tag by name or slug */
        get: operations["getTagByName"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tags/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a tag */
        get: operations["getTag"];
        put?: never;
        post?: never;
        /** Delete a tag and every subscription to it */
        delete: operations["deleteTag"];
        options?: never;
        head?: never;
        /** Update a tag */
        patch: operations["updateTag"];
        trace?: never;
    };
    "/api/v1/subscribers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List subscribers, newest first */
        get: operations["listSubscribers"];
        put?: never;
        /** Create a subscriber (unknown tag names are created) */
        post: operations["createSubscriber"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/by-email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Find a subscriber by email (case-insensitive) */
        get: operations["getSubscriberByEmail"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create or update up to 1,000 subscribers; one result per item */
        post: operations["batchUpsertSubscribers"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a subscriber */
        get: operations["getSubscriber"];
        put?: never;
        post?: never;
        /** Erase a subscriber with their tags, history and notes (GDPR) */
        delete: operations["deleteSubscriber"];
        options?: never;
        head?: never;
        /** Change email, names, metadata or status */
        patch: operations["updateSubscriber"];
        trace?: never;
    };
    "/api/v1/subscribers/{id}/tags": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Subscribe to more tags, keeping the others */
        post: operations["addSubscriberTags"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/{id}/tags/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Unsubscribe from one tag */
        delete: operations["removeSubscriberTag"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Consent history, newest first */
        get: operations["listSubscriberEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/{id}/notes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Notes, newest first */
        get: operations["listSubscriberNotes"];
        put?: never;
        /** Add an internal note */
        post: operations["createSubscriberNote"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/suppressions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List suppressed addresses, newest first */
        get: operations["listSuppressions"];
        put?: never;
        /**
         * Suppress an address: no email of any kind is sent to it
         * @description Answers 201 with the new entry, or 200 with the entry that already suppresses the address.
         */
        post: operations["addSuppression"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/suppressions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove an address from the suppression list
         * @description Email may go to the address again. The subscriber's status is not changed: a bounced or complained subscriber stays so until updated.
         */
        delete: operations["removeSuppression"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/imports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List imports, newest first, with who started them */
        get: operations["listImports"];
        put?: never;
        /**
         * Upload a CSV file to import (or dry-run) in the background
         * @description multipart/form-data with an optional `options` field (JSON) followed by the `file` part. The file is streamed to disk, its header read to detect delimiter, encoding and columns (422 when no column holds the email), and the import queued: watch it with GET /subscribers/imports/{id}.
         */
        post: operations["createImport"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/imports/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Progress and report of an import
         * @description status, phase, rows processed of the total, rows per second and ETA while it runs; created, updated, unchanged, failed and skipped (by reason) once done. A dry run reports what the import would do and the first 20 rows as mapped.
         */
        get: operations["getImport"];
        put?: never;
        post?: never;
        /**
         * Cancel a queued or running import
         * @description The worker stops within a second; nothing of a cancelled import is applied. 409 when it already ended.
         */
        delete: operations["cancelImport"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/imports/{id}/errors.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The rows that were not imported: row number, column and reason
         * @description Reasons are codes (invalid_email, duplicate_in_file, wrong_column_count, control_characters, …); the file holds no values from the rows.
         */
        get: operations["getImportErrors"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/imports/{id}/start": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run a completed dry run for real, on the same file */
        post: operations["startImport"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download subscribers as CSV or NDJSON, streamed
         * @description With the list filters (status, tag, email prefix). Columns: id, email, first_name, last_name, status, source, tags (subscribed topic slugs joined by ";"), metadata (JSON, or one column per key named in `metadata`), created_at, updated_at.
         */
        get: operations["exportSubscribers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List templates, newest first (active ones unless status=archived) */
        get: operations["listTemplates"];
        put?: never;
        /** Create a template (MJML + Liquid); invalid MJML or Liquid is refused with 422 */
        post: operations["createTemplate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a template, active or archived */
        get: operations["getTemplate"];
        put?: never;
        post?: never;
        /** Archive a template (soft delete); its slug becomes free */
        delete: operations["archiveTemplate"];
        options?: never;
        head?: never;
        /** Change an active template; it is compiled again */
        patch: operations["updateTemplate"];
        trace?: never;
    };
    "/api/v1/templates/{id}/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Render an active template with variables, as a subscriber would get it; sends nothing
         * @description With subject, mjml_content or category in the body, those unsaved edits are rendered instead of the stored ones (for a live preview in an editor). They are checked as saving checks them (invalid MJML or Liquid is a 422 naming the field) and nothing is stored. Rendering a real subscriber (subscriber_id) reads their data and so also needs subscribers:read (the viewer role for sessions). Unsubscribe and preference links in a preview are inert: they look like the real ones but every endpoint refuses them.
         */
        post: operations["previewTemplate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/settings/domains": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Sending domains, newest first */
        get: operations["listSendingDomains"];
        put?: never;
        /** Register a sending domain; answers with the DNS records to publish */
        post: operations["createSendingDomain"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/settings/domains/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A sending domain with its DNS records and their state */
        get: operations["getSendingDomain"];
        put?: never;
        post?: never;
        /** Remove a sending domain here and at the provider */
        delete: operations["deleteSendingDomain"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/settings/domains/{id}/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Ask the provider to check the DNS records now */
        post: operations["verifySendingDomain"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/settings/email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Sender name and address, and the From header mail gets now */
        get: operations["getEmailSettings"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change the sender name or address (the address must be on a verified domain) */
        patch: operations["updateEmailSettings"];
        trace?: never;
    };
    "/api/v1/templates/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send the template to yourself as a test, rendered for a sample subscriber; subject marked [Test]
         * @description Team members only (a session, not an API key), and only to their own address. Works for marketing templates too: the address need not be a subscriber. Counts against the month's quota.
         */
        post: operations["sendTemplateTest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/emails/send": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a transactional email from a template; answers 202 once it is queued */
        post: operations["sendEmail"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/emails/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Status of a sent email, with the provider's message id */
        get: operations["getEmail"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/{id}/emails": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Emails sent to a subscriber, newest first (status and timestamps, never the body) */
        get: operations["listSubscriberEmails"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/emails": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every email of the organization, newest first, with filters (never the body) */
        get: operations["listEmails"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/emails/{id}/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** What was sent in one email (headers, HTML, text) and the provider's events about it */
        get: operations["getEmailContent"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/dev/mailbox": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Messages kept in the dev mailbox for this organization, newest first */
        get: operations["listDevMailbox"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscribers/{id}/preference-token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mint a signed preference-center link for a subscriber */
        post: operations["createPreferenceToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/preference-center": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The subscriber, the organization's branding and texts, and the public topics */
        get: operations["getPreferenceCenter"];
        put?: never;
        post?: never;
        /**
         * Erase the subscriber and everything about them (irreversible)
         * @description Needs a link emailed on request (request-link); a link from any other email answers 403 fresh_link_required.
         */
        delete: operations["deletePreferenceData"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/preference-center/tags/{tag_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Subscribe to or unsubscribe from one public topic */
        put: operations["setPreferenceTag"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/preference-center/unsubscribe-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Unsubscribe from every topic and all email; returns an undo token valid for 15 minutes */
        post: operations["unsubscribeAll"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/preference-center/unsubscribe-all/undo": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Take back an unsubscribe-all within 15 minutes */
        post: operations["undoUnsubscribeAll"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/preference-center/resubscribe": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Email a confirmation link; the subscriber is active again only after confirming */
        post: operations["resubscribe"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/preference-center/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Everything held about the subscriber, as a JSON download
         * @description Needs a link emailed on request (request-link); a link from any other email answers 403 fresh_link_required.
         */
        get: operations["exportPreferenceData"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/preference-center/request-link": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Email a fresh link; the answer is the same whether or not the address is known */
        post: operations["requestPreferenceLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/settings/preference-center": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Texts, branding, double opt-in and allowed origins of the preference center */
        get: operations["getPreferenceCenterSettings"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change preference-center settings; texts merge per locale, null restores a default text */
        patch: operations["updatePreferenceCenterSettings"];
        trace?: never;
    };
    "/api/v1/public/{org_slug}/subscribe": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sign up from a website form; with double opt-in the person confirms by email */
        post: operations["publicSubscribe"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/public/confirmation": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** What the confirmation page shows for a confirmation link */
        get: operations["getConfirmation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/public/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Confirm a subscription (double opt-in; each link works once); records the consent */
        post: operations["confirmSubscription"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/segments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List segments, newest first */
        get: operations["listSegments"];
        put?: never;
        /**
         * Create a segment from a filter
         * @description The filter is checked now: an unknown tag or an operator that does not fit the field is a 422 naming the condition.
         */
        post: operations["createSegment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/segments/preview-count": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Count the subscribers an unsaved filter matches */
        post: operations["previewSegmentCount"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/segments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a segment */
        get: operations["getSegment"];
        put?: never;
        post?: never;
        /**
         * Delete a segment
         * @description Campaigns that used it keep their frozen recipients; a draft that named it has no audience until another is chosen.
         */
        delete: operations["deleteSegment"];
        options?: never;
        head?: never;
        /** Change a segment */
        patch: operations["updateSegment"];
        trace?: never;
    };
    "/api/v1/segments/{id}/count": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Count the subscribers a segment matches now */
        get: operations["countSegment"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/segments/{id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The first 50 subscribers a segment matches, newest first */
        get: operations["listSegmentMembers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List campaigns, newest first */
        get: operations["listCampaigns"];
        put?: never;
        /**
         * Create a draft campaign
         * @description The audience is a tag_filter (tags by id or slug) or a segment_id; tags and segment must be the organization's.
         */
        post: operations["createCampaign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a campaign */
        get: operations["getCampaign"];
        put?: never;
        post?: never;
        /** Delete a draft or scheduled campaign */
        delete: operations["deleteCampaign"];
        options?: never;
        head?: never;
        /** Change a draft or scheduled campaign */
        patch: operations["updateCampaign"];
        trace?: never;
    };
    "/api/v1/campaigns/{id}/send": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a campaign now or at a time
         * @description Checks template, postal address, audience and the month's quota for the whole audience first (402 naming both numbers); then the campaign is scheduled and starts when due.
         */
        post: operations["sendCampaign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Pause a sending campaign (in-flight emails finish) */
        post: operations["pauseCampaign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resume a paused campaign where it stopped */
        post: operations["resumeCampaign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a scheduled, sending or paused campaign; unsent recipients become cancelled */
        post: operations["cancelCampaign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/duplicate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Copy a campaign into a new draft */
        post: operations["duplicateCampaign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send again to the recipients whose email failed
         * @description Only failed recipients whose email the provider never accepted; with none, a 200 that changes nothing.
         */
        post: operations["retryCampaign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send the campaign's email to up to five addresses, rendered for a sample subscriber
         * @description Not part of the campaign: no recipient is recorded and no stats change. Counts against the month's quota.
         */
        post: operations["testCampaign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/recipient-count": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** How many subscribers the campaign would go to now, and who is left out and why */
        get: operations["countCampaignRecipients"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/progress": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Recipients by state, live while sending */
        get: operations["getCampaignProgress"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Sent, delivered, bounced, complained, unsubscribed and more */
        get: operations["getCampaignStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/campaigns/{id}/recipients": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The per-recipient ledger, in subscriber order */
        get: operations["listCampaignRecipients"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/stats/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Subscribers by status, emails sent this month against the plan limit, latest consent events */
        get: operations["getStatsOverview"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/stats/growth": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Subscribers created and unsubscribed per day, and the running total */
        get: operations["getSubscriberGrowth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List webhook endpoints, newest first */
        get: operations["listWebhooks"];
        put?: never;
        /**
         * Create a webhook endpoint
         * @description Answers with the signing secret, shown only this once. The URL must resolve to a public address.
         */
        post: operations["createWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/event-types": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every event type an endpoint can subscribe to, with the JSON Schema of its data */
        get: operations["listWebhookEventTypes"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a webhook endpoint */
        get: operations["getWebhook"];
        put?: never;
        post?: never;
        /** Delete a webhook endpoint and its delivery log */
        delete: operations["deleteWebhook"];
        options?: never;
        head?: never;
        /** Change a webhook endpoint */
        patch: operations["updateWebhook"];
        trace?: never;
    };
    "/api/v1/webhooks/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a webhook.test event to the endpoint
         * @description Answers at once with the queued delivery; follow it in the delivery log.
         */
        post: operations["testWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/{id}/rotate-secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Replace the signing secret
         * @description Answers with the new secret, shown only this once. For 24 hours deliveries carry two signatures, one per secret, so receivers can switch over.
         */
        post: operations["rotateWebhookSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The delivery log of an endpoint, newest first */
        get: operations["listWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/deliveries/{delivery_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A delivery with every attempt: request headers, status, the first 2 KB of the answer, duration, error */
        get: operations["getWebhookDelivery"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/deliveries/{delivery_id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a delivery again now
         * @description Works in any state; the receiver gets the same webhook-id, so it can tell a retry from a new event.
         */
        post: operations["retryWebhookDelivery"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/{id}/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Deliver every event of a time window again
         * @description Every stored event in [from, to) the endpoint subscribes to, as new deliveries (at most 10,000; events are kept RETENTION_EVENTS_DAYS).
         */
        post: operations["replayWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/billing": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Plan, subscription status, period end and usage against each limit (owners)
         * @description Exists only when the installation has billing on (Stripe keys configured); otherwise 404.
         */
        get: operations["getBilling"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/billing/checkout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A Stripe Checkout page to subscribe to a plan (owners)
         * @description Exists only when the installation has billing on (Stripe keys configured); otherwise 404.
         */
        post: operations["createBillingCheckout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/billing/portal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A Stripe Customer Portal page: invoices, payment method, plan changes (owners)
         * @description Exists only when the installation has billing on (Stripe keys configured); otherwise 404.
         */
        post: operations["createBillingPortal"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: PostgreSQL and Redis reachable */
        get: operations["getReady"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/hooks/bounces": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A bounce (delivery status notification) returned to the SMTP bounce mailbox, posted as the raw message
         * @description For SMTP relays without delivery webhooks: set SMTP_RETURN_PATH so every message is sent with a VERP return path, and pipe what arrives at that mailbox here (Content-Type: message/rfc822, Authorization: Bearer BOUNCE_WEBHOOK_SECRET).
         */
        post: operations["receiveSmtpBounce"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/hooks/resend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Delivery events from Resend, signed with Standard Webhooks (svix-id, svix-timestamp, svix-signature) */
        post: operations["receiveResendEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/u/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Redirects to the preference center, opened on the unsubscribe card; changes nothing
         * @description A broken or tampered link redirects to the preference center's "send me a new link" page of the organization the link names.
         */
        get: operations["openUnsubscribeLink"];
        put?: never;
        /** RFC 8058 one-click unsubscribe; idempotent */
        post: operations["oneClickUnsubscribe"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/hooks/stripe": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Subscription events from Stripe, signed with the stripe-signature header
         * @description Exists only when the installation has billing on (Stripe keys configured); otherwise 404.
         */
        post: operations["receiveStripeEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        AuditEntry: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            actor: {
                /** @enum {string} */
                type: "user" | "api_key" | "system";
                id: string | null;
            };
            /** @description What was done, e.g. subscriber.create */
            action: string;
            target_type: string | null;
            target_id: string | null;
            ip: string | null;
            user_agent: string | null;
            request_id: string | null;
            details: {
                [key: string]: unknown;
            };
            /** Format: date-time */
            created_at: string;
        };
        ApiKey: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            name: string;
            /** @description The first characters of the key, to recognise it */
            key_prefix: string;
            /** @enum {string} */
            environment: "live" | "test";
            scopes: ("subscribers:read" | "subscribers:write" | "subscribers:delete" | "imports:read" | "imports:write" | "tags:read" | "tags:write" | "templates:read" | "templates:write" | "emails:send" | "campaigns:read" | "campaigns:write" | "triggers:read" | "triggers:write" | "webhooks:read" | "webhooks:manage" | "api-keys:manage")[];
            last_used_at: string | null;
            revoked_at: string | null;
            /** Format: date-time */
            created_at: string;
            /** @description The dashboard user who created the key; null when created by another key, at sign-up, or when that user no longer exists. Keys belong to the organization: they keep working when their creator leaves it. */
            created_by: {
                /**
                 * Format: uuid
                 * @description A UUIDv7 identifier
                 */
                id: string;
                email: string;
                name: string | null;
            } | null;
        };
        User: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            email: string;
            name: string | null;
            is_platform_admin: boolean;
        };
        Session: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            last_seen_at: string;
            /** Format: date-time */
            expires_at: string;
            ip: string | null;
            user_agent: string | null;
            /** @description The session this request was made with */
            current: boolean;
        };
        Member: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            /**
             * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
             * @enum {string}
             */
            role: "owner" | "admin" | "viewer";
            /** Format: date-time */
            created_at: string;
            user: {
                /**
                 * Format: uuid
                 * @description A UUIDv7 identifier
                 */
                id: string;
                email: string;
                name: string | null;
                last_login_at: string | null;
            };
        };
        /** @description Days and local hours (in the organization's time zone) when campaigns and automation mail go out; outside them sending waits. The end is exclusive and after the start. */
        SendingWindow: {
            /** @description ISO weekdays: 1 = Monday … 7 = Sunday */
            days: number[];
            /** @description Local time, HH:MM (24-hour clock) */
            start: string;
            /** @description Local time, HH:MM (24-hour clock) */
            end: string;
        };
        Invitation: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            email: string;
            /**
             * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
             * @enum {string}
             */
            role: "owner" | "admin" | "viewer";
            /** @enum {string} */
            status: "pending" | "accepted" | "revoked" | "expired";
            invited_by_user_id: string | null;
            /** Format: date-time */
            expires_at: string;
            accepted_at: string | null;
            revoked_at: string | null;
            sent_count: number;
            /** Format: date-time */
            created_at: string;
        };
        PlatformOrganization: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            name: string;
            slug: string;
            /** @enum {string} */
            status: "active" | "suspended";
            plan: string;
            member_count: number;
            /** Format: date-time */
            created_at: string;
            deleted_at: string | null;
        };
        Tag: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            name: string;
            slug: string;
            description: string | null;
            category: string | null;
            /** @description Public tags are shown in the preference center */
            is_public: boolean;
            /** @description Subscribers currently subscribed to this tag */
            subscriber_count: number;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        Subscriber: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            email: string;
            /** @enum {string} */
            status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
            first_name: string | null;
            last_name: string | null;
            metadata: {
                [key: string]: unknown;
            };
            source: string;
            /** @description Tags the subscriber is currently subscribed to */
            tags: {
                /**
                 * Format: uuid
                 * @description A UUIDv7 identifier
                 */
                id: string;
                name: string;
                slug: string;
            }[];
            confirmed_at: string | null;
            unsubscribed_at: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        Suppression: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            email: string;
            /**
             * @description hard_bounce, soft_bounce (repeated soft bounces) and complaint come from delivery events; manual was added by someone
             * @enum {string}
             */
            reason: "hard_bounce" | "soft_bounce" | "complaint" | "manual";
            /** @description The message whose bounce or complaint added the address */
            email_message_id: string | null;
            /** Format: date-time */
            created_at: string;
        };
        Import: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            /** @enum {string} */
            status: "queued" | "running" | "completed" | "failed" | "cancelled";
            /** @description While running: staging (reading the file), validating, merging */
            phase: ("staging" | "validating" | "merging") | null;
            dry_run: boolean;
            update_existing: boolean;
            file_name: string;
            file_bytes: number;
            detected: {
                delimiter: string;
                encoding: string;
                bom: boolean;
                header: string[];
                /** @description Each header column and where it goes */
                mapping: {
                    [key: string]: string;
                };
            };
            /** @description Tags added to every row */
            tags: string[];
            /** @description Data rows in the file, known once it is read */
            total: number | null;
            processed: number;
            bytes_processed: number;
            /** @description Subscribers created (a dry run: would create) */
            created: number;
            updated: number;
            unchanged: number;
            /** @description Invalid rows (listed in the errors file) */
            failed: number;
            /** @description Rows skipped, by reason: duplicate_in_file, exists, suppressed */
            skipped: {
                [key: string]: number;
            };
            rows_per_second: number | null;
            /** @description Estimated from the bytes read so far while running */
            eta_seconds: number | null;
            /** @description The first 20 rows as mapped, once the file is read */
            preview: {
                row: number;
                email: string | null;
                first_name: string | null;
                last_name: string | null;
                tags: string[];
                metadata: {
                    [key: string]: unknown;
                } | null;
                /** @description create, update, unchanged, skip_exists, skip_suppressed, or the error code of an invalid row */
                action: string;
            }[];
            error: {
                code: string;
                message: string;
            } | null;
            created_by: {
                /** @enum {string} */
                type: "user" | "api_key";
                /**
                 * Format: uuid
                 * @description A UUIDv7 identifier
                 */
                id: string;
                email?: string;
            } | null;
            started_at: string | null;
            finished_at: string | null;
            /** Format: date-time */
            created_at: string;
        };
        Template: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            name: string;
            slug: string;
            /**
             * @description Marketing mail gets the compliance footer and one-click unsubscribe headers, and goes only to active subscribers
             * @enum {string}
             */
            category: "transactional" | "marketing";
            subject: string;
            mjml_content: string;
            variables_schema: {
                [key: string]: unknown;
            };
            /** @enum {string} */
            status: "active" | "archived";
            archived_at: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            /** @description Deliverability problems found when the template was saved (for example an email that is only images); it is saved anyway */
            warnings?: string[];
        };
        SendingDomain: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            name: string;
            region: string;
            /** @enum {string} */
            status: "not_started" | "pending" | "verified" | "failed" | "partially_verified" | "partially_failed" | "temporary_failure";
            /** @description Publish these at your DNS provider, then ask for verification */
            records: {
                /** @description What the record is for: Verification, SPF, DKIM, … */
                record: string;
                /** @description DNS type: TXT, MX, CNAME */
                type: string;
                /** @description Host name, relative to the domain */
                name: string;
                value: string;
                ttl: string;
                priority: number | null;
                status: string;
            }[];
            last_checked_at: string | null;
            verified_at: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        SubscriberEmail: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            /** @description Null when the message had no template or its template was deleted */
            template: {
                /**
                 * Format: uuid
                 * @description A UUIDv7 identifier
                 */
                id: string;
                slug: string;
                name: string;
            } | null;
            /** @enum {string} */
            category: "transactional" | "marketing";
            /** @description The address it went to, which may differ from the subscriber's current one */
            to_address: string;
            subject: string;
            /** @enum {string} */
            status: "queued" | "sending" | "sent" | "delivery_delayed" | "delivered" | "bounced" | "complained" | "failed" | "suppressed";
            /** @description The provider's message id, once it accepted the email */
            esp_message_id: string | null;
            error: {
                code: string;
                message: string;
            } | null;
            /** Format: date-time */
            created_at: string;
            sent_at: string | null;
            delivered_at: string | null;
            opened_at: string | null;
            clicked_at: string | null;
            bounced_at: string | null;
            complained_at: string | null;
            failed_at: string | null;
        };
        EmailLogEntry: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            /** @enum {string} */
            status: "queued" | "sending" | "sent" | "delivery_delayed" | "delivered" | "bounced" | "complained" | "failed" | "suppressed";
            /** @enum {string} */
            category: "transactional" | "marketing";
            to_address: string;
            from_address: string;
            subject: string;
            /** @description Null when the message had no template or its template was deleted */
            template: {
                /**
                 * Format: uuid
                 * @description A UUIDv7 identifier
                 */
                id: string;
                slug: string;
                name: string;
            } | null;
            subscriber_id: string | null;
            campaign_id: string | null;
            /** @description The provider's message id, once it accepted the email */
            esp_message_id: string | null;
            error: {
                code: string;
                message: string;
            } | null;
            open_count: number;
            click_count: number;
            /** Format: date-time */
            created_at: string;
            sent_at: string | null;
            delivered_at: string | null;
            opened_at: string | null;
            clicked_at: string | null;
            bounced_at: string | null;
            complained_at: string | null;
            failed_at: string | null;
        };
        DevMailboxMessage: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            from: string;
            to: string;
            subject: string;
            text: string;
            html: string;
            /** @description The headers the message was sent with (List-Unsubscribe, List-Id, Reply-To, …) */
            headers: {
                [key: string]: string;
            };
            /** @description Every link in the message, in order */
            links: string[];
            /** Format: date-time */
            created_at: string;
        };
        Segment: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            name: string;
            description: string | null;
            filter: components["schemas"]["SegmentFilter"];
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        /** @description Nested AND/OR groups (≤ 3 deep, ≤ 50 conditions) over subscriber fields */
        SegmentFilter: {
            /**
             * @description all = AND, any = OR
             * @enum {string}
             */
            match: "all" | "any";
            conditions: ({
                /** @description status, email, source, created_at, confirmed_at, tags or metadata.<key> */
                field: string;
                /** @enum {string} */
                op: "eq" | "neq" | "in" | "not_in" | "domain" | "prefix" | "contains" | "before" | "after" | "between" | "within_days" | "gt" | "gte" | "lt" | "lte" | "exists" | "not_exists" | "any" | "all" | "none";
                /**
                 * @description The value type of a metadata field (default string)
                 * @enum {string}
                 */
                type?: "string" | "number" | "boolean" | "date";
                value?: (string | number | boolean) | (string | number | boolean)[];
            } | {
                /**
                 * @description all = AND, any = OR
                 * @enum {string}
                 */
                match: "all" | "any";
                conditions: ({
                    /** @description status, email, source, created_at, confirmed_at, tags or metadata.<key> */
                    field: string;
                    /** @enum {string} */
                    op: "eq" | "neq" | "in" | "not_in" | "domain" | "prefix" | "contains" | "before" | "after" | "between" | "within_days" | "gt" | "gte" | "lt" | "lte" | "exists" | "not_exists" | "any" | "all" | "none";
                    /**
                     * @description The value type of a metadata field (default string)
                     * @enum {string}
                     */
                    type?: "string" | "number" | "boolean" | "date";
                    value?: (string | number | boolean) | (string | number | boolean)[];
                } | {
                    /**
                     * @description all = AND, any = OR
                     * @enum {string}
                     */
                    match: "all" | "any";
                    conditions: {
                        /** @description status, email, source, created_at, confirmed_at, tags or metadata.<key> */
                        field: string;
                        /** @enum {string} */
                        op: "eq" | "neq" | "in" | "not_in" | "domain" | "prefix" | "contains" | "before" | "after" | "between" | "within_days" | "gt" | "gte" | "lt" | "lte" | "exists" | "not_exists" | "any" | "all" | "none";
                        /**
                         * @description The value type of a metadata field (default string)
                         * @enum {string}
                         */
                        type?: "string" | "number" | "boolean" | "date";
                        value?: (string | number | boolean) | (string | number | boolean)[];
                    }[];
                })[];
            })[];
        };
        Campaign: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            name: string;
            template_id: string | null;
            tag_filter: components["schemas"]["CampaignTagFilter"] | null;
            segment_id: string | null;
            subject: string | null;
            preheader: string | null;
            from_name: string | null;
            reply_to: string | null;
            /** @enum {string} */
            status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
            scheduled_at: string | null;
            started_at: string | null;
            completed_at: string | null;
            cancelled_at: string | null;
            /** @description While sending waits for the organization's sending window: when it goes on */
            resumes_at: string | null;
            /** @description Recipients frozen when sending started */
            targeted_count: number;
            /** @description Why the campaign failed or paused itself */
            last_error: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        CampaignTagFilter: {
            include_tags: string[];
            exclude_tags?: string[];
            /**
             * @description any (default): subscribed to one of the tags; all: to every one
             * @enum {string}
             */
            match?: "any" | "all";
        };
        WebhookEndpoint: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            url: string;
            description: string;
            events: string[];
            enabled: boolean;
            /** @description Also sends X-SubscribeFlow-Signature: sha256=<hex HMAC of the body> */
            legacy_signature: boolean;
            /** @description Why the endpoint was disabled automatically (410 Gone, failing for days) */
            disabled_reason: string | null;
            disabled_at: string | null;
            failing_since: string | null;
            /** @description After a rotation: until when the previous secret also signs */
            previous_secret_active_until: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        WebhookDelivery: {
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            id: string;
            /**
             * Format: uuid
             * @description A UUIDv7 identifier
             */
            endpoint_id: string;
            /** @description The envelope id and the webhook-id header (the same on every attempt and replay) */
            event_id: string;
            event_type: string;
            /** Format: date-time */
            event_created_at: string;
            /** @description Made by a replay or a test, not by the event itself */
            replay: boolean;
            /**
             * @description pending: not tried yet; failed: a retry is scheduled; succeeded: a 2xx answer; dead: no retry left
             * @enum {string}
             */
            status: "pending" | "failed" | "succeeded" | "dead";
            attempts: number;
            next_attempt_at: string | null;
            last_status_code: number | null;
            last_error: string | null;
            last_duration_ms: number | null;
            delivered_at: string | null;
            /** Format: date-time */
            created_at: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    listAuditLogs: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                /** @description A UUIDv7 identifier */
                actor_id?: string;
                action?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["AuditEntry"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listApiKeys: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["ApiKey"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    scopes: ("subscribers:read" | "subscribers:write" | "subscribers:delete" | "imports:read" | "imports:write" | "tags:read" | "tags:write" | "templates:read" | "templates:write" | "emails:send" | "campaigns:read" | "campaigns:write" | "triggers:read" | "triggers:write" | "webhooks:read" | "webhooks:manage" | "api-keys:manage")[];
                    environment?: "live" | "test";
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        /** @description The first characters of the key, to recognise it */
                        key_prefix: string;
                        /** @enum {string} */
                        environment: "live" | "test";
                        scopes: ("subscribers:read" | "subscribers:write" | "subscribers:delete" | "imports:read" | "imports:write" | "tags:read" | "tags:write" | "templates:read" | "templates:write" | "emails:send" | "campaigns:read" | "campaigns:write" | "triggers:read" | "triggers:write" | "webhooks:read" | "webhooks:manage" | "api-keys:manage")[];
                        last_used_at: string | null;
                        revoked_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** @description The dashboard user who created the key; null when created by another key, at sign-up, or when that user no longer exists. Keys belong to the organization: they keep working when their creator leaves it. */
                        created_by: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            email: string;
                            name: string | null;
                        } | null;
                        /** @description The full key. Shown only in this response. */
                        key: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    revokeApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        /** @description The first characters of the key, to recognise it */
                        key_prefix: string;
                        /** @enum {string} */
                        environment: "live" | "test";
                        scopes: ("subscribers:read" | "subscribers:write" | "subscribers:delete" | "imports:read" | "imports:write" | "tags:read" | "tags:write" | "templates:read" | "templates:write" | "emails:send" | "campaigns:read" | "campaigns:write" | "triggers:read" | "triggers:write" | "webhooks:read" | "webhooks:manage" | "api-keys:manage")[];
                        last_used_at: string | null;
                        revoked_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** @description The dashboard user who created the key; null when created by another key, at sign-up, or when that user no longer exists. Keys belong to the organization: they keep working when their creator leaves it. */
                        created_by: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            email: string;
                            name: string | null;
                        } | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    requestMagicLink: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: email */
                    email: string;
                };
            };
        };
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        message: string;
                        /** @description True when no email provider is configured: the link is in the dev mailbox and the API's log, not in an inbox */
                        dev_mailbox: boolean;
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    verifyMagicLink: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        user: components["schemas"]["User"];
                        session: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            /** Format: date-time */
                            expires_at: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        user: components["schemas"]["User"];
                        memberships: {
                            organization: {
                                /**
                                 * Format: uuid
                                 * @description A UUIDv7 identifier
                                 */
                                id: string;
                                name: string;
                                slug: string;
                                /** @enum {string} */
                                status: "active" | "suspended";
                            };
                            /**
                             * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                             * @enum {string}
                             */
                            role: "owner" | "admin" | "viewer";
                        }[];
                        /** @description The organization X-Organization-Id names, or the only one; null when neither applies */
                        current_organization: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            name: string;
                            slug: string;
                            /** @enum {string} */
                            status: "active" | "suspended";
                            /**
                             * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                             * @enum {string}
                             */
                            role: "owner" | "admin" | "viewer";
                        } | null;
                        session: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            /** Format: date-time */
                            expires_at: string;
                        };
                        /** @description What this installation offers, so the dashboard shows only what exists */
                        features: {
                            /** @description Whether this installation sells plans through Stripe (the billing page and routes exist) */
                            billing: boolean;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listSessions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Session"][];
                        next_cursor: null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    revokeSession: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listMembers: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Member"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    removeMember: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updateMemberRole: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                     * @enum {string}
                     */
                    role: "owner" | "admin" | "viewer";
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /**
                         * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                         * @enum {string}
                         */
                        role: "owner" | "admin" | "viewer";
                        /** Format: date-time */
                        created_at: string;
                        user: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            email: string;
                            name: string | null;
                            last_login_at: string | null;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    leaveOrganization: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listMyOrganizations: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            name: string;
                            slug: string;
                            status: string;
                            /**
                             * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                             * @enum {string}
                             */
                            role: "owner" | "admin" | "viewer";
                            /** Format: date-time */
                            created_at: string;
                        }[];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createOrganization: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    /** @description Lower-case letters, digits and dashes */
                    slug?: string;
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        /** @enum {string} */
                        status: "active" | "suspended";
                        /** @description Language of the organization's email footers and public pages */
                        locale: string;
                        /** @description IANA time zone the organization schedules in and its sending window is read in */
                        timezone: string;
                        /** @description When bulk mail may go out; null: any time */
                        sending_window: components["schemas"]["SendingWindow"] | null;
                        postal_address: string | null;
                        email_from_name: string | null;
                        email_from_address: string | null;
                        email_reply_to: string | null;
                        plan: string;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                        /**
                         * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                         * @enum {string}
                         */
                        role: "owner" | "admin" | "viewer";
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getCurrentOrganization: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        /** @enum {string} */
                        status: "active" | "suspended";
                        /** @description Language of the organization's email footers and public pages */
                        locale: string;
                        /** @description IANA time zone the organization schedules in and its sending window is read in */
                        timezone: string;
                        /** @description When bulk mail may go out; null: any time */
                        sending_window: components["schemas"]["SendingWindow"] | null;
                        postal_address: string | null;
                        email_from_name: string | null;
                        email_from_address: string | null;
                        email_reply_to: string | null;
                        plan: string;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    deleteCurrentOrganization: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description The organization's slug, typed again to confirm */
                    confirm_slug: string;
                };
            };
        };
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        message: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updateCurrentOrganization: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string;
                    /** @description Lower-case letters, digits and dashes */
                    slug?: string;
                    /** @description e.g. en, de, de-CH */
                    locale?: string;
                    /** @description IANA time zone, e.g. Europe/Berlin */
                    timezone?: string;
                    sending_window?: components["schemas"]["SendingWindow"] | null;
                    postal_address?: string | null;
                    email_from_name?: string | null;
                    email_from_address?: string | null;
                    email_reply_to?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        /** @enum {string} */
                        status: "active" | "suspended";
                        /** @description Language of the organization's email footers and public pages */
                        locale: string;
                        /** @description IANA time zone the organization schedules in and its sending window is read in */
                        timezone: string;
                        /** @description When bulk mail may go out; null: any time */
                        sending_window: components["schemas"]["SendingWindow"] | null;
                        postal_address: string | null;
                        email_from_name: string | null;
                        email_from_address: string | null;
                        email_reply_to: string | null;
                        plan: string;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listInvitations: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                status?: "pending" | "accepted" | "revoked" | "expired";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Invitation"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: email */
                    email: string;
                    /**
                     * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                     * @enum {string}
                     */
                    role: "owner" | "admin" | "viewer";
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /**
                         * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                         * @enum {string}
                         */
                        role: "owner" | "admin" | "viewer";
                        /** @enum {string} */
                        status: "pending" | "accepted" | "revoked" | "expired";
                        invited_by_user_id: string | null;
                        /** Format: date-time */
                        expires_at: string;
                        accepted_at: string | null;
                        revoked_at: string | null;
                        sent_count: number;
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    resendInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /**
                         * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                         * @enum {string}
                         */
                        role: "owner" | "admin" | "viewer";
                        /** @enum {string} */
                        status: "pending" | "accepted" | "revoked" | "expired";
                        invited_by_user_id: string | null;
                        /** Format: date-time */
                        expires_at: string;
                        accepted_at: string | null;
                        revoked_at: string | null;
                        sent_count: number;
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    revokeInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    describeInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        organization: {
                            name: string;
                        };
                        /**
                         * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                         * @enum {string}
                         */
                        role: "owner" | "admin" | "viewer";
                        /** @description The address the invitation was sent to; accepting signs in as it */
                        email: string;
                        invited_by: {
                            email: string;
                            name: string | null;
                        } | null;
                        /** Format: date-time */
                        expires_at: string;
                        /** @enum {string} */
                        status: "pending" | "accepted" | "revoked" | "expired";
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    acceptInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        user: components["schemas"]["User"];
                        session: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            /** Format: date-time */
                            expires_at: string;
                        };
                        organization: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            /**
                             * @description owner: everything, including billing and deletion; admin: everything else; viewer: read only
                             * @enum {string}
                             */
                            role: "owner" | "admin" | "viewer";
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listAllOrganizations: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                status?: "active" | "suspended";
                /** @description Start of the name or slug */
                q?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["PlatformOrganization"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    suspendOrganization: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        status: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    unsuspendOrganization: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        status: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listTags: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                category?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Tag"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createTag: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    slug?: string;
                    description?: string | null;
                    category?: string | null;
                    is_public?: boolean;
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        description: string | null;
                        category: string | null;
                        /** @description Public tags are shown in the preference center */
                        is_public: boolean;
                        /** @description Subscribers currently subscribed to this tag */
                        subscriber_count: number;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getTagByName: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        description: string | null;
                        category: string | null;
                        /** @description Public tags are shown in the preference center */
                        is_public: boolean;
                        /** @description Subscribers currently subscribed to this tag */
                        subscriber_count: number;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getTag: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        description: string | null;
                        category: string | null;
                        /** @description Public tags are shown in the preference center */
                        is_public: boolean;
                        /** @description Subscribers currently subscribed to this tag */
                        subscriber_count: number;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    deleteTag: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updateTag: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string;
                    slug?: string;
                    description?: string | null;
                    category?: string | null;
                    is_public?: boolean;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        description: string | null;
                        category: string | null;
                        /** @description Public tags are shown in the preference center */
                        is_public: boolean;
                        /** @description Subscribers currently subscribed to this tag */
                        subscriber_count: number;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listSubscribers: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                status?: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                /** @description Only subscribers subscribed to this tag, given by slug or by name (case-insensitive); an unknown tag gives an empty list */
                tag?: string;
                /** @description Email prefix, case-insensitive */
                q?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Subscriber"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createSubscriber: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: email */
                    email: string;
                    first_name?: string | null;
                    last_name?: string | null;
                    /** @description Free-form JSON object (at most 50 keys, 16 KB serialized) */
                    metadata?: {
                        [key: string]: unknown;
                    };
                    tags?: string[];
                    /** @default active */
                    status?: "active" | "pending";
                    source?: string;
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /** @enum {string} */
                        status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        first_name: string | null;
                        last_name: string | null;
                        metadata: {
                            [key: string]: unknown;
                        };
                        source: string;
                        /** @description Tags the subscriber is currently subscribed to */
                        tags: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            name: string;
                            slug: string;
                        }[];
                        confirmed_at: string | null;
                        unsubscribed_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getSubscriberByEmail: {
        parameters: {
            query: {
                email: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /** @enum {string} */
                        status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        first_name: string | null;
                        last_name: string | null;
                        metadata: {
                            [key: string]: unknown;
                        };
                        source: string;
                        /** @description Tags the subscriber is currently subscribed to */
                        tags: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            name: string;
                            slug: string;
                        }[];
                        confirmed_at: string | null;
                        unsubscribed_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    batchUpsertSubscribers: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Each item is validated on its own; invalid items fail alone with their reasons in the results */
                    subscribers: {
                        /** Format: email */
                        email: string;
                        first_name?: string | null;
                        last_name?: string | null;
                        /** @description Merged into an existing subscriber's metadata: these keys are added or overwritten, the others kept (PATCH /subscribers/{id} replaces the whole object instead). */
                        metadata?: {
                            [key: string]: unknown;
                        };
                        tags?: string[];
                        /** @description For a new subscriber, its status (default active). An existing one becomes active again only with a consent_reason, and a bounced or complained one keeps its status (the item fails) */
                        status?: "active" | "pending" | "unsubscribed";
                        /** @description Required to make a subscriber active again (from pending, unsubscribed, bounced or complained): why the person agreed, kept in the consent history */
                        consent_reason?: string;
                    }[];
                    source?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        results: {
                            index: number;
                            status: "created" | "updated" | "failed";
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id?: string;
                            email?: string;
                            error?: {
                                code: string;
                                message: string;
                                details?: ({
                                    field?: string;
                                    code: string;
                                    message: string;
                                    bound?: number;
                                    minimum?: number;
                                    maximum?: number;
                                    format?: string;
                                } & {
                                    [key: string]: unknown;
                                })[];
                            };
                        }[];
                        created: number;
                        updated: number;
                        failed: number;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getSubscriber: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /** @enum {string} */
                        status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        first_name: string | null;
                        last_name: string | null;
                        metadata: {
                            [key: string]: unknown;
                        };
                        source: string;
                        /** @description Tags the subscriber is currently subscribed to */
                        tags: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            name: string;
                            slug: string;
                        }[];
                        confirmed_at: string | null;
                        unsubscribed_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    deleteSubscriber: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updateSubscriber: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: email */
                    email?: string;
                    first_name?: string | null;
                    last_name?: string | null;
                    /** @description Replaces the whole metadata object (send {} to clear it; keys left out are removed). The batch upsert merges instead: its keys are added to or overwrite the stored ones. To change one key here, read the subscriber and send the full object. */
                    metadata?: {
                        [key: string]: unknown;
                    };
                    status?: "active" | "unsubscribed";
                    /** @description Required to make a subscriber active again (from pending, unsubscribed, bounced or complained): why the person agreed, kept in the consent history */
                    consent_reason?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /** @enum {string} */
                        status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        first_name: string | null;
                        last_name: string | null;
                        metadata: {
                            [key: string]: unknown;
                        };
                        source: string;
                        /** @description Tags the subscriber is currently subscribed to */
                        tags: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            name: string;
                            slug: string;
                        }[];
                        confirmed_at: string | null;
                        unsubscribed_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    addSubscriberTags: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    tags: string[];
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /** @enum {string} */
                        status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        first_name: string | null;
                        last_name: string | null;
                        metadata: {
                            [key: string]: unknown;
                        };
                        source: string;
                        /** @description Tags the subscriber is currently subscribed to */
                        tags: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            name: string;
                            slug: string;
                        }[];
                        confirmed_at: string | null;
                        unsubscribed_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    removeSubscriberTag: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
                slug: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /** @enum {string} */
                        status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        first_name: string | null;
                        last_name: string | null;
                        metadata: {
                            [key: string]: unknown;
                        };
                        source: string;
                        /** @description Tags the subscriber is currently subscribed to */
                        tags: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            name: string;
                            slug: string;
                        }[];
                        confirmed_at: string | null;
                        unsubscribed_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listSubscriberEvents: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            /** @description created, status_changed, email_changed, tag_subscribed, tag_unsubscribed, … */
                            action: string;
                            tag: {
                                /**
                                 * Format: uuid
                                 * @description A UUIDv7 identifier
                                 */
                                id: string;
                                name: string;
                                slug: string;
                            } | null;
                            source: string;
                            ip: string | null;
                            user_agent: string | null;
                            details: {
                                [key: string]: unknown;
                            };
                            /** Format: date-time */
                            created_at: string;
                        }[];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listSubscriberNotes: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            body: string;
                            author: {
                                type: "user" | "api_key";
                                id: string | null;
                            };
                            /** Format: date-time */
                            created_at: string;
                        }[];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createSubscriberNote: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    body: string;
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        body: string;
                        author: {
                            type: "user" | "api_key";
                            id: string | null;
                        };
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listSuppressions: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                /** @description Part of the address, case-insensitive */
                q?: string;
                reason?: "hard_bounce" | "soft_bounce" | "complaint" | "manual";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Suppression"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    addSuppression: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: email */
                    email: string;
                    /**
                     * @description Only manual: the others are recorded from provider events
                     * @enum {string}
                     */
                    reason?: "manual";
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /**
                         * @description hard_bounce, soft_bounce (repeated soft bounces) and complaint come from delivery events; manual was added by someone
                         * @enum {string}
                         */
                        reason: "hard_bounce" | "soft_bounce" | "complaint" | "manual";
                        /** @description The message whose bounce or complaint added the address */
                        email_message_id: string | null;
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        email: string;
                        /**
                         * @description hard_bounce, soft_bounce (repeated soft bounces) and complaint come from delivery events; manual was added by someone
                         * @enum {string}
                         */
                        reason: "hard_bounce" | "soft_bounce" | "complaint" | "manual";
                        /** @description The message whose bounce or complaint added the address */
                        email_message_id: string | null;
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    removeSuppression: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listImports: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Import"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createImport: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description multipart/form-data */
        requestBody: {
            content: {
                "multipart/form-data": {
                    /** @description JSON of the import options (mapping, metadata_types, tags, update_existing, dry_run, delimiter, encoding); must come before the file */
                    options?: string;
                    /**
                     * Format: binary
                     * @description The CSV file
                     */
                    file: string;
                };
            };
        };
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /** @enum {string} */
                        status: "queued" | "running" | "completed" | "failed" | "cancelled";
                        /** @description While running: staging (reading the file), validating, merging */
                        phase: ("staging" | "validating" | "merging") | null;
                        dry_run: boolean;
                        update_existing: boolean;
                        file_name: string;
                        file_bytes: number;
                        detected: {
                            delimiter: string;
                            encoding: string;
                            bom: boolean;
                            header: string[];
                            /** @description Each header column and where it goes */
                            mapping: {
                                [key: string]: string;
                            };
                        };
                        /** @description Tags added to every row */
                        tags: string[];
                        /** @description Data rows in the file, known once it is read */
                        total: number | null;
                        processed: number;
                        bytes_processed: number;
                        /** @description Subscribers created (a dry run: would create) */
                        created: number;
                        updated: number;
                        unchanged: number;
                        /** @description Invalid rows (listed in the errors file) */
                        failed: number;
                        /** @description Rows skipped, by reason: duplicate_in_file, exists, suppressed */
                        skipped: {
                            [key: string]: number;
                        };
                        rows_per_second: number | null;
                        /** @description Estimated from the bytes read so far while running */
                        eta_seconds: number | null;
                        /** @description The first 20 rows as mapped, once the file is read */
                        preview: {
                            row: number;
                            email: string | null;
                            first_name: string | null;
                            last_name: string | null;
                            tags: string[];
                            metadata: {
                                [key: string]: unknown;
                            } | null;
                            /** @description create, update, unchanged, skip_exists, skip_suppressed, or the error code of an invalid row */
                            action: string;
                        }[];
                        error: {
                            code: string;
                            message: string;
                        } | null;
                        created_by: {
                            /** @enum {string} */
                            type: "user" | "api_key";
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            email?: string;
                        } | null;
                        started_at: string | null;
                        finished_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A plan limit is reached; the error names the limit, the usage and the plan */
            402: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The request body is too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getImport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /** @enum {string} */
                        status: "queued" | "running" | "completed" | "failed" | "cancelled";
                        /** @description While running: staging (reading the file), validating, merging */
                        phase: ("staging" | "validating" | "merging") | null;
                        dry_run: boolean;
                        update_existing: boolean;
                        file_name: string;
                        file_bytes: number;
                        detected: {
                            delimiter: string;
                            encoding: string;
                            bom: boolean;
                            header: string[];
                            /** @description Each header column and where it goes */
                            mapping: {
                                [key: string]: string;
                            };
                        };
                        /** @description Tags added to every row */
                        tags: string[];
                        /** @description Data rows in the file, known once it is read */
                        total: number | null;
                        processed: number;
                        bytes_processed: number;
                        /** @description Subscribers created (a dry run: would create) */
                        created: number;
                        updated: number;
                        unchanged: number;
                        /** @description Invalid rows (listed in the errors file) */
                        failed: number;
                        /** @description Rows skipped, by reason: duplicate_in_file, exists, suppressed */
                        skipped: {
                            [key: string]: number;
                        };
                        rows_per_second: number | null;
                        /** @description Estimated from the bytes read so far while running */
                        eta_seconds: number | null;
                        /** @description The first 20 rows as mapped, once the file is read */
                        preview: {
                            row: number;
                            email: string | null;
                            first_name: string | null;
                            last_name: string | null;
                            tags: string[];
                            metadata: {
                                [key: string]: unknown;
                            } | null;
                            /** @description create, update, unchanged, skip_exists, skip_suppressed, or the error code of an invalid row */
                            action: string;
                        }[];
                        error: {
                            code: string;
                            message: string;
                        } | null;
                        created_by: {
                            /** @enum {string} */
                            type: "user" | "api_key";
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            email?: string;
                        } | null;
                        started_at: string | null;
                        finished_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    cancelImport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /** @enum {string} */
                        status: "queued" | "running" | "completed" | "failed" | "cancelled";
                        /** @description While running: staging (reading the file), validating, merging */
                        phase: ("staging" | "validating" | "merging") | null;
                        dry_run: boolean;
                        update_existing: boolean;
                        file_name: string;
                        file_bytes: number;
                        detected: {
                            delimiter: string;
                            encoding: string;
                            bom: boolean;
                            header: string[];
                            /** @description Each header column and where it goes */
                            mapping: {
                                [key: string]: string;
                            };
                        };
                        /** @description Tags added to every row */
                        tags: string[];
                        /** @description Data rows in the file, known once it is read */
                        total: number | null;
                        processed: number;
                        bytes_processed: number;
                        /** @description Subscribers created (a dry run: would create) */
                        created: number;
                        updated: number;
                        unchanged: number;
                        /** @description Invalid rows (listed in the errors file) */
                        failed: number;
                        /** @description Rows skipped, by reason: duplicate_in_file, exists, suppressed */
                        skipped: {
                            [key: string]: number;
                        };
                        rows_per_second: number | null;
                        /** @description Estimated from the bytes read so far while running */
                        eta_seconds: number | null;
                        /** @description The first 20 rows as mapped, once the file is read */
                        preview: {
                            row: number;
                            email: string | null;
                            first_name: string | null;
                            last_name: string | null;
                            tags: string[];
                            metadata: {
                                [key: string]: unknown;
                            } | null;
                            /** @description create, update, unchanged, skip_exists, skip_suppressed, or the error code of an invalid row */
                            action: string;
                        }[];
                        error: {
                            code: string;
                            message: string;
                        } | null;
                        created_by: {
                            /** @enum {string} */
                            type: "user" | "api_key";
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            email?: string;
                        } | null;
                        started_at: string | null;
                        finished_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getImportErrors: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description CSV: row, column, reason */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": string;
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    startImport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /** @enum {string} */
                        status: "queued" | "running" | "completed" | "failed" | "cancelled";
                        /** @description While running: staging (reading the file), validating, merging */
                        phase: ("staging" | "validating" | "merging") | null;
                        dry_run: boolean;
                        update_existing: boolean;
                        file_name: string;
                        file_bytes: number;
                        detected: {
                            delimiter: string;
                            encoding: string;
                            bom: boolean;
                            header: string[];
                            /** @description Each header column and where it goes */
                            mapping: {
                                [key: string]: string;
                            };
                        };
                        /** @description Tags added to every row */
                        tags: string[];
                        /** @description Data rows in the file, known once it is read */
                        total: number | null;
                        processed: number;
                        bytes_processed: number;
                        /** @description Subscribers created (a dry run: would create) */
                        created: number;
                        updated: number;
                        unchanged: number;
                        /** @description Invalid rows (listed in the errors file) */
                        failed: number;
                        /** @description Rows skipped, by reason: duplicate_in_file, exists, suppressed */
                        skipped: {
                            [key: string]: number;
                        };
                        rows_per_second: number | null;
                        /** @description Estimated from the bytes read so far while running */
                        eta_seconds: number | null;
                        /** @description The first 20 rows as mapped, once the file is read */
                        preview: {
                            row: number;
                            email: string | null;
                            first_name: string | null;
                            last_name: string | null;
                            tags: string[];
                            metadata: {
                                [key: string]: unknown;
                            } | null;
                            /** @description create, update, unchanged, skip_exists, skip_suppressed, or the error code of an invalid row */
                            action: string;
                        }[];
                        error: {
                            code: string;
                            message: string;
                        } | null;
                        created_by: {
                            /** @enum {string} */
                            type: "user" | "api_key";
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            email?: string;
                        } | null;
                        started_at: string | null;
                        finished_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A plan limit is reached; the error names the limit, the usage and the plan */
            402: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    exportSubscribers: {
        parameters: {
            query?: {
                format?: "csv" | "ndjson";
                status?: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                /** @description Only subscribers subscribed to the tag with this slug */
                tag?: string;
                /** @description Email prefix, case-insensitive */
                q?: string;
                /** @description Comma-separated metadata keys, each its own column (metadata.<key>); without it one metadata column holds the JSON object */
                metadata?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The subscribers */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": string;
                    "application/x-ndjson": string;
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                    "application/x-ndjson": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                    "application/x-ndjson": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                    "application/x-ndjson": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                    "application/x-ndjson": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listTemplates: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                /** @description Marketing mail gets the compliance footer and one-click unsubscribe headers, and goes only to active subscribers */
                category?: "transactional" | "marketing";
                status?: "active" | "archived";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Template"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createTemplate: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    slug?: string;
                    /** @default transactional */
                    category?: "transactional" | "marketing";
                    /** @description Liquid; rendered as plain text */
                    subject: string;
                    /** @description An <mjml> document; Liquid variables and tags inside text, attributes and <mj-raw> */
                    mjml_content: string;
                    /** @description A JSON Schema the variables of each send must match, e.g. {"type":"object","required":["name"],"properties":{"name":{"type":"string"}}} */
                    variables_schema?: {
                        [key: string]: unknown;
                    };
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        /**
                         * @description Marketing mail gets the compliance footer and one-click unsubscribe headers, and goes only to active subscribers
                         * @enum {string}
                         */
                        category: "transactional" | "marketing";
                        subject: string;
                        mjml_content: string;
                        variables_schema: {
                            [key: string]: unknown;
                        };
                        /** @enum {string} */
                        status: "active" | "archived";
                        archived_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                        /** @description Deliverability problems found when the template was saved (for example an email that is only images); it is saved anyway */
                        warnings?: string[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getTemplate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        /**
                         * @description Marketing mail gets the compliance footer and one-click unsubscribe headers, and goes only to active subscribers
                         * @enum {string}
                         */
                        category: "transactional" | "marketing";
                        subject: string;
                        mjml_content: string;
                        variables_schema: {
                            [key: string]: unknown;
                        };
                        /** @enum {string} */
                        status: "active" | "archived";
                        archived_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                        /** @description Deliverability problems found when the template was saved (for example an email that is only images); it is saved anyway */
                        warnings?: string[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    archiveTemplate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updateTemplate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string;
                    slug?: string;
                    /**
                     * @description Marketing mail gets the compliance footer and one-click unsubscribe headers, and goes only to active subscribers
                     * @enum {string}
                     */
                    category?: "transactional" | "marketing";
                    /** @description Liquid; rendered as plain text */
                    subject?: string;
                    /** @description An <mjml> document; Liquid variables and tags inside text, attributes and <mj-raw> */
                    mjml_content?: string;
                    /** @description A JSON Schema the variables of each send must match, e.g. {"type":"object","required":["name"],"properties":{"name":{"type":"string"}}} */
                    variables_schema?: {
                        [key: string]: unknown;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        slug: string;
                        /**
                         * @description Marketing mail gets the compliance footer and one-click unsubscribe headers, and goes only to active subscribers
                         * @enum {string}
                         */
                        category: "transactional" | "marketing";
                        subject: string;
                        mjml_content: string;
                        variables_schema: {
                            [key: string]: unknown;
                        };
                        /** @enum {string} */
                        status: "active" | "archived";
                        archived_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                        /** @description Deliverability problems found when the template was saved (for example an email that is only images); it is saved anyway */
                        warnings?: string[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    previewTemplate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    variables?: {
                        [key: string]: unknown;
                    };
                    /**
                     * Format: uuid
                     * @description A UUIDv7 identifier
                     */
                    subscriber_id?: string;
                    /** @description Liquid; rendered as plain text */
                    subject?: string;
                    /** @description An <mjml> document; Liquid variables and tags inside text, attributes and <mj-raw> */
                    mjml_content?: string;
                    /**
                     * @description Marketing mail gets the compliance footer and one-click unsubscribe headers, and goes only to active subscribers
                     * @enum {string}
                     */
                    category?: "transactional" | "marketing";
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        subject: string;
                        html: string;
                        text: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listSendingDomains: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["SendingDomain"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createSendingDomain: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description A domain or subdomain you control, e.g. mail.example.com */
                    name: string;
                    /**
                     * @description Where the provider sends from
                     * @default us-east-1
                     * @enum {string}
                     */
                    region?: "us-east-1" | "eu-west-1" | "sa-east-1" | "ap-northeast-1";
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        region: string;
                        /** @enum {string} */
                        status: "not_started" | "pending" | "verified" | "failed" | "partially_verified" | "partially_failed" | "temporary_failure";
                        /** @description Publish these at your DNS provider, then ask for verification */
                        records: {
                            /** @description What the record is for: Verification, SPF, DKIM, … */
                            record: string;
                            /** @description DNS type: TXT, MX, CNAME */
                            type: string;
                            /** @description Host name, relative to the domain */
                            name: string;
                            value: string;
                            ttl: string;
                            priority: number | null;
                            status: string;
                        }[];
                        last_checked_at: string | null;
                        verified_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getSendingDomain: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        region: string;
                        /** @enum {string} */
                        status: "not_started" | "pending" | "verified" | "failed" | "partially_verified" | "partially_failed" | "temporary_failure";
                        /** @description Publish these at your DNS provider, then ask for verification */
                        records: {
                            /** @description What the record is for: Verification, SPF, DKIM, … */
                            record: string;
                            /** @description DNS type: TXT, MX, CNAME */
                            type: string;
                            /** @description Host name, relative to the domain */
                            name: string;
                            value: string;
                            ttl: string;
                            priority: number | null;
                            status: string;
                        }[];
                        last_checked_at: string | null;
                        verified_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    deleteSendingDomain: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    verifySendingDomain: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        region: string;
                        /** @enum {string} */
                        status: "not_started" | "pending" | "verified" | "failed" | "partially_verified" | "partially_failed" | "temporary_failure";
                        /** @description Publish these at your DNS provider, then ask for verification */
                        records: {
                            /** @description What the record is for: Verification, SPF, DKIM, … */
                            record: string;
                            /** @description DNS type: TXT, MX, CNAME */
                            type: string;
                            /** @description Host name, relative to the domain */
                            name: string;
                            value: string;
                            ttl: string;
                            priority: number | null;
                            status: string;
                        }[];
                        last_checked_at: string | null;
                        verified_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getEmailSettings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Display name of the sender; the organization name when null */
                        from_name: string | null;
                        /** @description Sender address; must be on a verified sending domain, or, when the provider cannot verify domains (dev, SMTP), on the domain of the platform's default sender */
                        from_email: string | null;
                        /** @description The From header organization mail currently gets */
                        effective_from: string;
                        /** @description The verified domain mail is sent from, if any */
                        send_domain: string | null;
                        domain_verified: boolean;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updateEmailSettings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    from_name?: string | null;
                    from_email?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Display name of the sender; the organization name when null */
                        from_name: string | null;
                        /** @description Sender address; must be on a verified sending domain, or, when the provider cannot verify domains (dev, SMTP), on the domain of the platform's default sender */
                        from_email: string | null;
                        /** @description The From header organization mail currently gets */
                        effective_from: string;
                        /** @description The verified domain mail is sent from, if any */
                        send_domain: string | null;
                        domain_verified: boolean;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    sendTemplateTest: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Sample variables (at most 100 keys, 64 KB as JSON) */
                    variables?: {
                        [key: string]: unknown;
                    };
                };
            };
        };
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /** @description Your own address, where the test goes */
                        to: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A plan limit is reached; the error names the limit, the usage and the plan */
            402: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    sendEmail: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    template_slug?: string;
                    /**
                     * Format: uuid
                     * @description A UUIDv7 identifier
                     */
                    template_id?: string;
                    /** @description An email address or a subscriber id */
                    to: string;
                    /** @description Template variables (at most 100 keys, 64 KB as JSON) */
                    variables?: {
                        [key: string]: unknown;
                    };
                    /** @description The same key never sends twice; the Idempotency-Key header works too */
                    idempotency_key?: string;
                };
            };
        };
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /** @enum {string} */
                        status: "queued" | "sending" | "sent" | "delivery_delayed" | "delivered" | "bounced" | "complained" | "failed" | "suppressed";
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A plan limit is reached; the error names the limit, the usage and the plan */
            402: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getEmail: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /** @enum {string} */
                        status: "queued" | "sending" | "sent" | "delivery_delayed" | "delivered" | "bounced" | "complained" | "failed" | "suppressed";
                        /** @enum {string} */
                        category: "transactional" | "marketing";
                        to_address: string;
                        from_address: string;
                        subject: string;
                        template_id: string | null;
                        subscriber_id: string | null;
                        campaign_id: string | null;
                        provider: string | null;
                        /** @description The provider's message id, once it accepted the email */
                        esp_message_id: string | null;
                        attempts: number;
                        error: {
                            code: string;
                            message: string;
                        } | null;
                        open_count: number;
                        click_count: number;
                        /** Format: date-time */
                        created_at: string;
                        sent_at: string | null;
                        delivered_at: string | null;
                        opened_at: string | null;
                        clicked_at: string | null;
                        bounced_at: string | null;
                        complained_at: string | null;
                        failed_at: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listSubscriberEmails: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["SubscriberEmail"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listEmails: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                status?: "queued" | "sending" | "sent" | "delivery_delayed" | "delivered" | "bounced" | "complained" | "failed" | "suppressed";
                category?: "transactional" | "marketing";
                /** @description The recipient's address or its beginning, any case */
                to?: string;
                /** @description A UUIDv7 identifier */
                template_id?: string;
                /** @description A UUIDv7 identifier */
                campaign_id?: string;
                /** @description A UUIDv7 identifier */
                subscriber_id?: string;
                /** @description Only messages queued at or after this time */
                since?: string;
                /** @description Only messages queued before this time */
                until?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["EmailLogEntry"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getEmailContent: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /** @description The headers we set on the message (the provider adds its own) */
                        headers: {
                            [key: string]: string;
                        };
                        html: string;
                        text: string;
                        events: {
                            /** @description The provider's event, e.g. email.delivered, email.bounced */
                            type: string;
                            provider: string;
                            /** Format: date-time */
                            received_at: string;
                        }[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listDevMailbox: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["DevMailboxMessage"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createPreferenceToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Lifetime in seconds: 7 days when left out, at most 90 days */
                    expires_in?: number;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        token: string;
                        /** @description The preference-center page with the token */
                        url: string;
                        /** Format: date-time */
                        expires_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getPreferenceCenter: {
        parameters: {
            query: {
                /** @description The signed link token from the preference-center URL */
                token: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        subscriber: {
                            email: string;
                            first_name: string | null;
                            /** @enum {string} */
                            status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        };
                        organization: {
                            name: string;
                            slug: string;
                            /** @enum {string} */
                            locale: "en" | "de";
                            logo_url: string | null;
                            accent_color: string | null;
                            texts: {
                                en?: {
                                    title?: string;
                                    intro?: string;
                                    /** @description Said after a change is saved */
                                    save?: string;
                                    /** @description Label of the unsubscribe-from-all button */
                                    unsubscribe_all?: string;
                                    /** @description The consent wording on the double-opt-in confirmation page */
                                    consent?: string;
                                };
                                de?: {
                                    title?: string;
                                    intro?: string;
                                    /** @description Said after a change is saved */
                                    save?: string;
                                    /** @description Label of the unsubscribe-from-all button */
                                    unsubscribe_all?: string;
                                    /** @description The consent wording on the double-opt-in confirmation page */
                                    consent?: string;
                                };
                            };
                        };
                        /** @description Categories of the public tags, in display order; tags without one come last */
                        categories: {
                            name: string;
                            display_name: string;
                        }[];
                        /** @description Public tags, ordered by category and name */
                        tags: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            name: string;
                            display_name: string;
                            description: string | null;
                            category: string | null;
                            is_subscribed: boolean;
                        }[];
                        /** @description Whether this link may export and erase the data: only links emailed on request (request-link) may; links from emails in general manage topics only */
                        can_manage_data: boolean;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    deletePreferenceData: {
        parameters: {
            query: {
                /** @description The signed link token from the preference-center URL */
                token: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    setPreferenceTag: {
        parameters: {
            query: {
                /** @description The signed link token from the preference-center URL */
                token: string;
            };
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                tag_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    subscribed: boolean;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        tag_id: string;
                        is_subscribed: boolean;
                        changed: boolean;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    unsubscribeAll: {
        parameters: {
            query: {
                /** @description The signed link token from the preference-center URL */
                token: string;
                /** @description Optional: why (too many emails, not relevant, never signed up, other); stored in the consent history */
                reason?: "too_many" | "not_relevant" | "never_signed_up" | "other";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        unsubscribed_tags: number;
                        /** @description Send to unsubscribe-all/undo to take this back */
                        undo_token: string;
                        /** Format: date-time */
                        undo_expires_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    undoUnsubscribeAll: {
        parameters: {
            query: {
                /** @description The signed link token from the preference-center URL */
                token: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    undo_token: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        resubscribed_tags: number;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    resubscribe: {
        parameters: {
            query: {
                /** @description The signed link token from the preference-center URL */
                token: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    locale?: "en" | "de";
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "confirmation_sent" | "already_active";
                    };
                };
            };
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "confirmation_sent" | "already_active";
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    exportPreferenceData: {
        parameters: {
            query: {
                /** @description The signed link token from the preference-center URL */
                token: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        exported_at: string;
                        organization: {
                            name: string;
                        };
                        subscriber: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            email: string;
                            status: string;
                            first_name: string | null;
                            last_name: string | null;
                            metadata: {
                                [key: string]: unknown;
                            };
                            source: string;
                            confirmed_at: string | null;
                            unsubscribed_at: string | null;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                        tags: {
                            name: string;
                            slug: string;
                            status: string;
                            source: string;
                            subscribed_at: string | null;
                            unsubscribed_at: string | null;
                        }[];
                        consent_history: {
                            action: string;
                            tag: {
                                name: string;
                                slug: string;
                            } | null;
                            source: string;
                            ip: string | null;
                            user_agent: string | null;
                            details: {
                                [key: string]: unknown;
                            };
                            /** Format: date-time */
                            created_at: string;
                        }[];
                        notes: {
                            body: string;
                            /** Format: date-time */
                            created_at: string;
                        }[];
                        /** @description Emails sent to the subscriber, newest first */
                        messages: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            category: string;
                            from_address: string;
                            to_address: string;
                            subject: string;
                            text: string;
                            status: string;
                            /** Format: date-time */
                            created_at: string;
                            sent_at: string | null;
                            delivered_at: string | null;
                            opened_at: string | null;
                            clicked_at: string | null;
                            bounced_at: string | null;
                            complained_at: string | null;
                        }[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    requestPreferenceLink: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: email */
                    email: string;
                    organization: string;
                    /** @enum {string} */
                    locale?: "en" | "de";
                };
            };
        };
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "accepted";
                        message: string;
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getPreferenceCenterSettings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        texts: {
                            en?: {
                                title?: string;
                                intro?: string;
                                /** @description Said after a change is saved */
                                save?: string;
                                /** @description Label of the unsubscribe-from-all button */
                                unsubscribe_all?: string;
                                /** @description The consent wording on the double-opt-in confirmation page */
                                consent?: string;
                            };
                            de?: {
                                title?: string;
                                intro?: string;
                                /** @description Said after a change is saved */
                                save?: string;
                                /** @description Label of the unsubscribe-from-all button */
                                unsubscribe_all?: string;
                                /** @description The consent wording on the double-opt-in confirmation page */
                                consent?: string;
                            };
                        };
                        logo_url: string | null;
                        accent_color: string | null;
                        /** @description Website-form sign-ups must confirm by email before they are active */
                        double_opt_in: boolean;
                        /** @description Origins allowed to show the preference center in an iframe */
                        embed_origins: string[];
                        /** @description Origins allowed to post the public subscribe form from a browser */
                        form_origins: string[];
                        /** @enum {string} */
                        locale: "en" | "de";
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updatePreferenceCenterSettings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    texts?: {
                        /** @description null removes a text, so the default applies again */
                        en?: {
                            title?: string | null;
                            intro?: string | null;
                            save?: string | null;
                            unsubscribe_all?: string | null;
                            consent?: string | null;
                        };
                        /** @description null removes a text, so the default applies again */
                        de?: {
                            title?: string | null;
                            intro?: string | null;
                            save?: string | null;
                            unsubscribe_all?: string | null;
                            consent?: string | null;
                        };
                    };
                    logo_url?: string | null;
                    accent_color?: string | null;
                    double_opt_in?: boolean;
                    embed_origins?: string[];
                    form_origins?: string[];
                    /** @enum {string} */
                    locale?: "en" | "de";
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        texts: {
                            en?: {
                                title?: string;
                                intro?: string;
                                /** @description Said after a change is saved */
                                save?: string;
                                /** @description Label of the unsubscribe-from-all button */
                                unsubscribe_all?: string;
                                /** @description The consent wording on the double-opt-in confirmation page */
                                consent?: string;
                            };
                            de?: {
                                title?: string;
                                intro?: string;
                                /** @description Said after a change is saved */
                                save?: string;
                                /** @description Label of the unsubscribe-from-all button */
                                unsubscribe_all?: string;
                                /** @description The consent wording on the double-opt-in confirmation page */
                                consent?: string;
                            };
                        };
                        logo_url: string | null;
                        accent_color: string | null;
                        /** @description Website-form sign-ups must confirm by email before they are active */
                        double_opt_in: boolean;
                        /** @description Origins allowed to show the preference center in an iframe */
                        embed_origins: string[];
                        /** @description Origins allowed to post the public subscribe form from a browser */
                        form_origins: string[];
                        /** @enum {string} */
                        locale: "en" | "de";
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    publicSubscribe: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                org_slug: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: email */
                    email: string;
                    first_name?: string;
                    /** @description Slugs of public topics */
                    tags?: string[];
                    /** @enum {string} */
                    locale?: "en" | "de";
                    /** @description The consent wording the form showed; kept with the consent record */
                    consent_text?: string;
                    /** @description Honeypot: keep this field hidden and empty. A filled one is accepted and ignored. */
                    website?: string;
                };
            };
        };
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "accepted";
                        /** @description The organization uses double opt-in: the person must click the link in the email */
                        confirmation_required: boolean;
                        message: string;
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getConfirmation: {
        parameters: {
            query: {
                /** @description The signed link token from the preference-center URL */
                token: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        organization: {
                            name: string;
                            slug: string;
                            /** @enum {string} */
                            locale: "en" | "de";
                            logo_url: string | null;
                            accent_color: string | null;
                            texts: {
                                en?: {
                                    title?: string;
                                    intro?: string;
                                    /** @description Said after a change is saved */
                                    save?: string;
                                    /** @description Label of the unsubscribe-from-all button */
                                    unsubscribe_all?: string;
                                    /** @description The consent wording on the double-opt-in confirmation page */
                                    consent?: string;
                                };
                                de?: {
                                    title?: string;
                                    intro?: string;
                                    /** @description Said after a change is saved */
                                    save?: string;
                                    /** @description Label of the unsubscribe-from-all button */
                                    unsubscribe_all?: string;
                                    /** @description The consent wording on the double-opt-in confirmation page */
                                    consent?: string;
                                };
                            };
                        };
                        email: string;
                        /** @enum {string} */
                        status: "pending" | "active" | "unsubscribed" | "bounced" | "complained";
                        /** @description Names of the topics being confirmed */
                        topics: string[];
                        /** @description The consent wording per locale; the page shows one and the confirmation records it */
                        consent: {
                            en: string;
                            de: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    confirmSubscription: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description The signed link token from the preference-center URL */
                    token: string;
                    /** @enum {string} */
                    locale?: "en" | "de";
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "active";
                        /** @description A fresh preference-center link for the confirmed subscriber */
                        preferences_url: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listSegments: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Segment"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createSegment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    description?: string | null;
                    filter: components["schemas"]["SegmentFilter"];
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        description: string | null;
                        filter: components["schemas"]["SegmentFilter"];
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    previewSegmentCount: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    filter: components["schemas"]["SegmentFilter"];
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        count: number;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getSegment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        description: string | null;
                        filter: components["schemas"]["SegmentFilter"];
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    deleteSegment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updateSegment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string;
                    description?: string | null;
                    filter?: components["schemas"]["SegmentFilter"];
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        description: string | null;
                        filter: components["schemas"]["SegmentFilter"];
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    countSegment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        count: number;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listSegmentMembers: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            email: string;
                            status: string;
                            first_name: string | null;
                            last_name: string | null;
                            /** Format: date-time */
                            created_at: string;
                        }[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listCampaigns: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                status?: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Campaign"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    template_id?: string | null;
                    tag_filter?: components["schemas"]["CampaignTagFilter"] | null;
                    segment_id?: string | null;
                    subject?: string | null;
                    preheader?: string | null;
                    from_name?: string | null;
                    reply_to?: string | null;
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        template_id: string | null;
                        tag_filter: components["schemas"]["CampaignTagFilter"] | null;
                        segment_id: string | null;
                        subject: string | null;
                        preheader: string | null;
                        from_name: string | null;
                        reply_to: string | null;
                        /** @enum {string} */
                        status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
                        scheduled_at: string | null;
                        started_at: string | null;
                        completed_at: string | null;
                        cancelled_at: string | null;
                        /** @description While sending waits for the organization's sending window: when it goes on */
                        resumes_at: string | null;
                        /** @description Recipients frozen when sending started */
                        targeted_count: number;
                        /** @description Why the campaign failed or paused itself */
                        last_error: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        template_id: string | null;
                        tag_filter: components["schemas"]["CampaignTagFilter"] | null;
                        segment_id: string | null;
                        subject: string | null;
                        preheader: string | null;
                        from_name: string | null;
                        reply_to: string | null;
                        /** @enum {string} */
                        status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
                        scheduled_at: string | null;
                        started_at: string | null;
                        completed_at: string | null;
                        cancelled_at: string | null;
                        /** @description While sending waits for the organization's sending window: when it goes on */
                        resumes_at: string | null;
                        /** @description Recipients frozen when sending started */
                        targeted_count: number;
                        /** @description Why the campaign failed or paused itself */
                        last_error: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    deleteCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updateCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string;
                    template_id?: string | null;
                    tag_filter?: components["schemas"]["CampaignTagFilter"] | null;
                    segment_id?: string | null;
                    subject?: string | null;
                    preheader?: string | null;
                    from_name?: string | null;
                    reply_to?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        template_id: string | null;
                        tag_filter: components["schemas"]["CampaignTagFilter"] | null;
                        segment_id: string | null;
                        subject: string | null;
                        preheader: string | null;
                        from_name: string | null;
                        reply_to: string | null;
                        /** @enum {string} */
                        status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
                        scheduled_at: string | null;
                        started_at: string | null;
                        completed_at: string | null;
                        cancelled_at: string | null;
                        /** @description While sending waits for the organization's sending window: when it goes on */
                        resumes_at: string | null;
                        /** @description Recipients frozen when sending started */
                        targeted_count: number;
                        /** @description Why the campaign failed or paused itself */
                        last_error: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    sendCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * Format: date-time
                     * @description When to start; now when absent. A past time is a 422.
                     */
                    scheduled_at?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        template_id: string | null;
                        tag_filter: components["schemas"]["CampaignTagFilter"] | null;
                        segment_id: string | null;
                        subject: string | null;
                        preheader: string | null;
                        from_name: string | null;
                        reply_to: string | null;
                        /** @enum {string} */
                        status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
                        scheduled_at: string | null;
                        started_at: string | null;
                        completed_at: string | null;
                        cancelled_at: string | null;
                        /** @description While sending waits for the organization's sending window: when it goes on */
                        resumes_at: string | null;
                        /** @description Recipients frozen when sending started */
                        targeted_count: number;
                        /** @description Why the campaign failed or paused itself */
                        last_error: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A plan limit is reached; the error names the limit, the usage and the plan */
            402: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    pauseCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        template_id: string | null;
                        tag_filter: components["schemas"]["CampaignTagFilter"] | null;
                        segment_id: string | null;
                        subject: string | null;
                        preheader: string | null;
                        from_name: string | null;
                        reply_to: string | null;
                        /** @enum {string} */
                        status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
                        scheduled_at: string | null;
                        started_at: string | null;
                        completed_at: string | null;
                        cancelled_at: string | null;
                        /** @description While sending waits for the organization's sending window: when it goes on */
                        resumes_at: string | null;
                        /** @description Recipients frozen when sending started */
                        targeted_count: number;
                        /** @description Why the campaign failed or paused itself */
                        last_error: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    resumeCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        template_id: string | null;
                        tag_filter: components["schemas"]["CampaignTagFilter"] | null;
                        segment_id: string | null;
                        subject: string | null;
                        preheader: string | null;
                        from_name: string | null;
                        reply_to: string | null;
                        /** @enum {string} */
                        status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
                        scheduled_at: string | null;
                        started_at: string | null;
                        completed_at: string | null;
                        cancelled_at: string | null;
                        /** @description While sending waits for the organization's sending window: when it goes on */
                        resumes_at: string | null;
                        /** @description Recipients frozen when sending started */
                        targeted_count: number;
                        /** @description Why the campaign failed or paused itself */
                        last_error: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    cancelCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        template_id: string | null;
                        tag_filter: components["schemas"]["CampaignTagFilter"] | null;
                        segment_id: string | null;
                        subject: string | null;
                        preheader: string | null;
                        from_name: string | null;
                        reply_to: string | null;
                        /** @enum {string} */
                        status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
                        scheduled_at: string | null;
                        started_at: string | null;
                        completed_at: string | null;
                        cancelled_at: string | null;
                        /** @description While sending waits for the organization's sending window: when it goes on */
                        resumes_at: string | null;
                        /** @description Recipients frozen when sending started */
                        targeted_count: number;
                        /** @description Why the campaign failed or paused itself */
                        last_error: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    duplicateCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        name: string;
                        template_id: string | null;
                        tag_filter: components["schemas"]["CampaignTagFilter"] | null;
                        segment_id: string | null;
                        subject: string | null;
                        preheader: string | null;
                        from_name: string | null;
                        reply_to: string | null;
                        /** @enum {string} */
                        status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
                        scheduled_at: string | null;
                        started_at: string | null;
                        completed_at: string | null;
                        cancelled_at: string | null;
                        /** @description While sending waits for the organization's sending window: when it goes on */
                        resumes_at: string | null;
                        /** @description Recipients frozen when sending started */
                        targeted_count: number;
                        /** @description Why the campaign failed or paused itself */
                        last_error: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    retryCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        requeued: number;
                        campaign: components["schemas"]["Campaign"];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    testCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description At most five addresses */
                    emails: string[];
                };
            };
        };
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        sent: number;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A plan limit is reached; the error names the limit, the usage and the plan */
            402: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    countCampaignRecipients: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        count: number;
                        excluded: {
                            unsubscribed_from_topic: number;
                            unsubscribed: number;
                            bounced: number;
                            complained: number;
                            suppressed: number;
                            pending_confirmation: number;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getCampaignProgress: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every recipient is in exactly one of queued, sending, sent, failed, skipped, cancelled: they add up to targeted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "draft" | "scheduled" | "sending" | "paused" | "sent" | "cancelled" | "failed";
                        targeted: number;
                        queued: number;
                        sending: number;
                        sent: number;
                        failed: number;
                        skipped: number;
                        cancelled: number;
                        last_error: string | null;
                        /** @description While sending waits for the sending window: when it goes on */
                        resumes_at: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getCampaignStats: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        targeted: number;
                        queued: number;
                        sending: number;
                        sent: number;
                        failed: number;
                        skipped: number;
                        cancelled: number;
                        delivered: number;
                        bounced: number;
                        complained: number;
                        opened: number;
                        clicked: number;
                        /** @description Subscribers who unsubscribed through this campaign's link */
                        unsubscribed: number;
                        skipped_by_reason: {
                            [key: string]: number;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listCampaignRecipients: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                status?: "queued" | "sending" | "sent" | "failed" | "skipped" | "cancelled";
            };
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            subscriber_id: string;
                            email: string | null;
                            /** @enum {string} */
                            status: "queued" | "sending" | "sent" | "failed" | "skipped" | "cancelled";
                            reason: string | null;
                            email_message_id: string | null;
                            message_status: string | null;
                            /** Format: date-time */
                            updated_at: string;
                        }[];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getStatsOverview: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        subscribers: {
                            total: number;
                            by_status: {
                                pending: number;
                                active: number;
                                unsubscribed: number;
                                bounced: number;
                                complained: number;
                            };
                        };
                        emails: {
                            plan: string;
                            sent_this_month: number;
                            /** @description The plan's monthly sending limit; null when unlimited */
                            monthly_limit: number | null;
                            /**
                             * Format: date
                             * @description A UTC calendar day, YYYY-MM-DD
                             */
                            period_start: string;
                        };
                        latest_consent_events: {
                            /**
                             * Format: uuid
                             * @description A UUIDv7 identifier
                             */
                            id: string;
                            /** @description created, confirmed, status_changed, tag_subscribed, tag_unsubscribed, … */
                            action: string;
                            source: string;
                            subscriber: {
                                /**
                                 * Format: uuid
                                 * @description A UUIDv7 identifier
                                 */
                                id: string;
                                email: string | null;
                            };
                            tag: {
                                /**
                                 * Format: uuid
                                 * @description A UUIDv7 identifier
                                 */
                                id: string;
                                name: string;
                                slug: string;
                            } | null;
                            details: {
                                [key: string]: unknown;
                            };
                            /** Format: date-time */
                            created_at: string;
                        }[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getSubscriberGrowth: {
        parameters: {
            query?: {
                /** @description How many days back, today included */
                days?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        days: number;
                        points: {
                            /**
                             * Format: date
                             * @description A UTC calendar day, YYYY-MM-DD
                             */
                            date: string;
                            /** @description Subscribers created that day */
                            subscribed: number;
                            /** @description Subscribers who unsubscribed that day (and still are) */
                            unsubscribed: number;
                            /** @description Subscribers at the end of the day */
                            total: number;
                        }[];
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listWebhooks: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["WebhookEndpoint"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description http(s) URL the events are posted to */
                    url: string;
                    /** @description Event types from the catalogue (GET /openapi.json, docs: Webhooks), or "*" for every type */
                    events: string[];
                    description?: string;
                    enabled?: boolean;
                    legacy_signature?: boolean;
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        url: string;
                        description: string;
                        events: string[];
                        enabled: boolean;
                        /** @description Also sends X-SubscribeFlow-Signature: sha256=<hex HMAC of the body> */
                        legacy_signature: boolean;
                        /** @description Why the endpoint was disabled automatically (410 Gone, failing for days) */
                        disabled_reason: string | null;
                        disabled_at: string | null;
                        failing_since: string | null;
                        /** @description After a rotation: until when the previous secret also signs */
                        previous_secret_active_until: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                        /** @description The signing secret (whsec_…), shown only now; verify deliveries with it */
                        secret: string;
                        /** @description The same secret, under the name some Standard Webhooks SDKs read */
                        signing_secret: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listWebhookEventTypes: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            type: string;
                            description: string;
                            /** @description JSON Schema of the envelope's data */
                            payload: unknown;
                        }[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        url: string;
                        description: string;
                        events: string[];
                        enabled: boolean;
                        /** @description Also sends X-SubscribeFlow-Signature: sha256=<hex HMAC of the body> */
                        legacy_signature: boolean;
                        /** @description Why the endpoint was disabled automatically (410 Gone, failing for days) */
                        disabled_reason: string | null;
                        disabled_at: string | null;
                        failing_since: string | null;
                        /** @description After a rotation: until when the previous secret also signs */
                        previous_secret_active_until: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    deleteWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No content */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    updateWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description http(s) URL the events are posted to */
                    url?: string;
                    /** @description Event types from the catalogue (GET /openapi.json, docs: Webhooks), or "*" for every type */
                    events?: string[];
                    description?: string;
                    /** @description true also clears an automatic disable and its failure count */
                    enabled?: boolean;
                    legacy_signature?: boolean;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        url: string;
                        description: string;
                        events: string[];
                        enabled: boolean;
                        /** @description Also sends X-SubscribeFlow-Signature: sha256=<hex HMAC of the body> */
                        legacy_signature: boolean;
                        /** @description Why the endpoint was disabled automatically (410 Gone, failing for days) */
                        disabled_reason: string | null;
                        disabled_at: string | null;
                        failing_since: string | null;
                        /** @description After a rotation: until when the previous secret also signs */
                        previous_secret_active_until: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    testWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        endpoint_id: string;
                        /** @description The envelope id and the webhook-id header (the same on every attempt and replay) */
                        event_id: string;
                        event_type: string;
                        /** Format: date-time */
                        event_created_at: string;
                        /** @description Made by a replay or a test, not by the event itself */
                        replay: boolean;
                        /**
                         * @description pending: not tried yet; failed: a retry is scheduled; succeeded: a 2xx answer; dead: no retry left
                         * @enum {string}
                         */
                        status: "pending" | "failed" | "succeeded" | "dead";
                        attempts: number;
                        next_attempt_at: string | null;
                        last_status_code: number | null;
                        last_error: string | null;
                        last_duration_ms: number | null;
                        delivered_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    rotateWebhookSecret: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        url: string;
                        description: string;
                        events: string[];
                        enabled: boolean;
                        /** @description Also sends X-SubscribeFlow-Signature: sha256=<hex HMAC of the body> */
                        legacy_signature: boolean;
                        /** @description Why the endpoint was disabled automatically (410 Gone, failing for days) */
                        disabled_reason: string | null;
                        disabled_at: string | null;
                        failing_since: string | null;
                        /** @description After a rotation: until when the previous secret also signs */
                        previous_secret_active_until: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                        /** @description The signing secret (whsec_…), shown only now; verify deliveries with it */
                        secret: string;
                        /** @description The same secret, under the name some Standard Webhooks SDKs read */
                        signing_secret: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    listWebhookDeliveries: {
        parameters: {
            query?: {
                /** @description Page size (at most 100) */
                limit?: number;
                /** @description The next_cursor of the previous page */
                cursor?: string;
                status?: "pending" | "failed" | "succeeded" | "dead";
                event_type?: string;
            };
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["WebhookDelivery"][];
                        /** @description Pass as cursor to get the next page; null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getWebhookDelivery: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                delivery_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        endpoint_id: string;
                        /** @description The envelope id and the webhook-id header (the same on every attempt and replay) */
                        event_id: string;
                        event_type: string;
                        /** Format: date-time */
                        event_created_at: string;
                        /** @description Made by a replay or a test, not by the event itself */
                        replay: boolean;
                        /**
                         * @description pending: not tried yet; failed: a retry is scheduled; succeeded: a 2xx answer; dead: no retry left
                         * @enum {string}
                         */
                        status: "pending" | "failed" | "succeeded" | "dead";
                        attempts: number;
                        next_attempt_at: string | null;
                        last_status_code: number | null;
                        last_error: string | null;
                        last_duration_ms: number | null;
                        delivered_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** @description The event data sent as `data` */
                        payload: unknown;
                        attempt_log: {
                            attempt: number;
                            request_headers: {
                                [key: string]: string;
                            };
                            status_code: number | null;
                            /** @description The first 2 KB of the answer */
                            response_snippet: string | null;
                            duration_ms: number;
                            error: string | null;
                            /** Format: date-time */
                            created_at: string;
                        }[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    retryWebhookDelivery: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                delivery_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        id: string;
                        /**
                         * Format: uuid
                         * @description A UUIDv7 identifier
                         */
                        endpoint_id: string;
                        /** @description The envelope id and the webhook-id header (the same on every attempt and replay) */
                        event_id: string;
                        event_type: string;
                        /** Format: date-time */
                        event_created_at: string;
                        /** @description Made by a replay or a test, not by the event itself */
                        replay: boolean;
                        /**
                         * @description pending: not tried yet; failed: a retry is scheduled; succeeded: a 2xx answer; dead: no retry left
                         * @enum {string}
                         */
                        status: "pending" | "failed" | "succeeded" | "dead";
                        attempts: number;
                        next_attempt_at: string | null;
                        last_status_code: number | null;
                        last_error: string | null;
                        last_duration_ms: number | null;
                        delivered_at: string | null;
                        /** Format: date-time */
                        created_at: string;
                        /** @description The event data sent as `data` */
                        payload: unknown;
                        attempt_log: {
                            attempt: number;
                            request_headers: {
                                [key: string]: string;
                            };
                            status_code: number | null;
                            /** @description The first 2 KB of the answer */
                            response_snippet: string | null;
                            duration_ms: number;
                            error: string | null;
                            /** Format: date-time */
                            created_at: string;
                        }[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    replayWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A UUIDv7 identifier */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: date-time */
                    from: string;
                    /** Format: date-time */
                    to: string;
                };
            };
        };
        responses: {
            /** @description Accepted; the work continues in the background */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Deliveries queued */
                        deliveries: number;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getBilling: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description The plan whose limits apply now */
                        plan: {
                            id: string;
                            name: string;
                        };
                        /** @description The paid plan, when its limits no longer apply (past due beyond the grace period) */
                        subscribed_plan: {
                            id: string;
                            name: string;
                        } | null;
                        /** @description The Stripe subscription status (active, past_due, canceled, …); null without a subscription */
                        status: string | null;
                        current_period_end: string | null;
                        past_due: boolean;
                        /** @description When a past-due subscription falls back to the free plan */
                        grace_ends_at: string | null;
                        /** @description Whether the organization has a Stripe customer (the billing portal needs one) */
                        has_billing_account: boolean;
                        usage: {
                            /** @enum {string} */
                            limit: "subscribers" | "emails_per_month" | "webhook_endpoints" | "custom_domains";
                            used: number;
                            /** @description null: unlimited */
                            max: number | null;
                        }[];
                        plans: {
                            id: string;
                            name: string;
                            purchasable: boolean;
                            limits: {
                                /** @description null: unlimited */
                                subscribers: number | null;
                                /** @description null: unlimited */
                                emails_per_month: number | null;
                                /** @description null: unlimited */
                                webhook_endpoints: number | null;
                                /** @description null: unlimited */
                                custom_domains: number | null;
                            };
                        }[];
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Not found (another organization's resources are not found either) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createBillingCheckout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description The plan to buy (its id) */
                    plan: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: uri */
                        url: string;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Error */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    createBillingPortal: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: uri */
                        url: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description The credentials do not allow this (scope, role, or organization) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A field is not valid; `details` names each field and why */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Too many requests; retry after the Retry-After header */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Error */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                    };
                };
            };
        };
    };
    getReady: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                        checks: {
                            postgres: string;
                            redis: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                        checks: {
                            postgres: string;
                            redis: string;
                        };
                    };
                };
            };
        };
    };
    receiveSmtpBounce: {
        parameters: {
            query?: never;
            header?: {
                authorization?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        received: boolean;
                        result: string;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Unsupported content type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    receiveResendEvent: {
        parameters: {
            query?: never;
            header?: {
                "svix-id"?: string;
                "svix-timestamp"?: string;
                "svix-signature"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        received: boolean;
                        result: string;
                    };
                };
            };
            /** @description The request is malformed (invalid JSON, cursor, or header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    openUnsubscribeLink: {
        parameters: {
            query?: {
                /** @description manage: open the preference center on the topics (the footer's "Manage preferences" link) rather than on the unsubscribe card */
                view?: "manage";
            };
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Location: the preference center with a fresh preference token */
            302: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    oneClickUnsubscribe: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "unsubscribed";
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
    receiveStripeEvent: {
        parameters: {
            query?: never;
            header?: {
                "stripe-signature"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        received: boolean;
                        result: string;
                    };
                };
            };
            /** @description Missing, invalid or revoked credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
            /** @description A dependency is unavailable; retry after the Retry-After header */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            code: string;
                            message: string;
                            details?: ({
                                field?: string;
                                code: string;
                                message: string;
                                bound?: number;
                                minimum?: number;
                                maximum?: number;
                                format?: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            request_id: string;
                        };
                    };
                };
            };
        };
    };
}
