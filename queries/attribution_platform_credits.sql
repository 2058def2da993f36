-- Attribution, stage 2 (platform model): each conversion's whole credit goes to its own --by value
-- as recorded on the conversion event, into temp table attribution_credits (conversion_id,
-- group_value, credit). Conversions without a value of their own stay unattributed.
CREATE OR REPLACE TEMP TABLE attribution_credits AS
SELECT conversion_id, own_group AS group_value, 1.0 AS credit
FROM attribution_conversions
WHERE own_group IS NOT NULL;
