-- An SMS template version says which Aliyun type its approved text is
-- filed under (notice, promotional, code), and every version carries a
-- description for staff: for SMS and WeChat, what to file with the
-- provider. The portal finds an incident by its notice campaign when an
-- incident notice's link is opened.
ALTER TABLE template_versions ADD COLUMN sms_type TEXT NOT NULL DEFAULT '';
ALTER TABLE template_versions ADD COLUMN description TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_notice_campaign ON incidents (notice_campaign);
