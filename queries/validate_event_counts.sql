-- Events and distinct users per canonical event name.
SELECT
    event_name,
    count(*)                AS events,
    count(DISTINCT user_id) AS users
FROM events
GROUP BY event_name
ORDER BY events DESC, event_name;
