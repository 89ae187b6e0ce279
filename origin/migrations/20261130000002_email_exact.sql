-- Addresses are normalised by the origin (NFKC, lower case, ASCII domains) and then compared exactly:
-- under the table's accent- and width-insensitive collation `füllx@…` and `fullx@…`, two addresses,
-- were one account.
ALTER TABLE users MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
