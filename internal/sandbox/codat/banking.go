package codat

import (
	"fmt"
	"net/http"
)

// latestSnapshotSource finds the latest successful pull of dataType on the
// request's connection. Without one the answer is the documented 409.
func (e *Emulator) latestSnapshotSource(r *http.Request, dataType string) (snapshotSource, *httpError) {
	now := e.clock.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	c, conn, herr := e.lookupConnection(r.PathValue("companyId"), r.PathValue("connectionId"))
	if herr != nil {
		return snapshotSource{}, herr
	}
	var latest, latestOK *pull
	for _, p := range c.pulls {
		if p.connectionID != conn.id || p.dataType != dataType {
			continue
		}
		latest = p
		if p.isSuccessfulAt(now) {
			latestOK = p
		}
	}
	switch {
	case latest == nil:
		return snapshotSource{}, errDataNotReady("The data set has not been requested.")
	case latestOK == nil:
		status, _ := latest.statusAt(now)
		return snapshotSource{}, errDataNotReady(fmt.Sprintf(
			"The data set has not been completed: the latest %s pull is %s.", dataType, status))
	}
	return snapshotSource{pullID: latestOK.id, dataType: dataType, dataUser: conn.dataUser,
		source: conn.source, asOf: latestOK.completedAt()}, nil
}

// readSnapshot returns the data to serve for dataType on the request's
// connection.
func (e *Emulator) readSnapshot(r *http.Request, dataType string) (*snapshot, error) {
	src, herr := e.latestSnapshotSource(r, dataType)
	if herr != nil {
		return nil, herr
	}
	return e.snapshotFor(src)
}

func accountRecord(v accountJSON) record {
	rec := record{"id": v.ID, "name": v.Name, "holder": v.Holder, "type": v.Type, "currency": v.Currency,
		"balance.current": v.Balance.Current, "balance.available": nil, "balance.limit": nil,
		"identifiers.type": v.Identifiers.Type, "identifiers.number": v.Identifiers.Number,
		"identifiers.iban": v.Identifiers.IBAN, "institution.id": v.Institution.ID,
		"institution.name": v.Institution.Name, "modifiedDate": parsedTime(v.ModifiedDate)}
	if v.Balance.Available != nil {
		rec["balance.available"] = *v.Balance.Available
	}
	if v.Balance.Limit != nil {
		rec["balance.limit"] = *v.Balance.Limit
	}
	return rec
}

func balanceRecord(v accountBalanceJSON) record {
	rec := record{"accountId": v.AccountID, "date": parsedTime(v.Date), "balance.current": v.Balance.Current,
		"balance.available": nil, "modifiedDate": parsedTime(v.ModifiedDate)}
	if v.Balance.Available != nil {
		rec["balance.available"] = *v.Balance.Available
	}
	return rec
}

func transactionRecord(v transactionJSON) record {
	rec := record{"id": v.ID, "accountId": v.AccountID, "description": v.Description, "amount": v.Amount,
		"currency": v.Currency, "postedDate": parsedTime(v.PostedDate), "authorizedDate": parsedTime(v.AuthorizedDate),
		"code": v.Code, "merchantName": v.MerchantName, "transactionCategoryRef.id": nil,
		"modifiedDate": parsedTime(v.ModifiedDate), "sourceModifiedDate": parsedTime(v.SourceModifiedDate)}
	if v.TransactionCategoryRef != nil {
		rec["transactionCategoryRef.id"] = v.TransactionCategoryRef.ID
	}
	return rec
}

func categoryRecord(v categoryJSON) record {
	parent := any(nil)
	if v.ParentID != "" {
		parent = v.ParentID
	}
	return record{"id": v.ID, "name": v.Name, "parentId": parent, "hasChildren": v.HasChildren,
		"status": v.Status, "modifiedDate": parsedTime(v.ModifiedDate)}
}

// servePage answers a list read with one page of items.
func servePage[T any](w http.ResponseWriter, r *http.Request, model string, items []T, rec func(T) record) error {
	page, herr := paginate(r, servicePublicAPI, model, items, rec)
	if herr != nil {
		return herr
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// serveItem answers a single-item read, or 404 when no item has the path's id.
func serveItem[T any](w http.ResponseWriter, items []T, id func(T) string, want, kind string) error {
	for _, it := range items {
		if id(it) == want {
			writeJSON(w, http.StatusOK, it)
			return nil
		}
	}
	return errNotFound(fmt.Sprintf("No %s was found with ID %s", kind, want))
}

func (e *Emulator) handleListAccounts(w http.ResponseWriter, r *http.Request) error {
	s, err := e.readSnapshot(r, dataTypeAccounts)
	if err != nil {
		return err
	}
	return servePage(w, r, "Account", s.accounts, accountRecord)
}

func (e *Emulator) handleGetAccount(w http.ResponseWriter, r *http.Request) error {
	s, err := e.readSnapshot(r, dataTypeAccounts)
	if err != nil {
		return err
	}
	return serveItem(w, s.accounts, func(a accountJSON) string { return a.ID }, r.PathValue("accountId"), "account")
}

func (e *Emulator) handleListBalances(w http.ResponseWriter, r *http.Request) error {
	s, err := e.readSnapshot(r, dataTypeBalances)
	if err != nil {
		return err
	}
	return servePage(w, r, "AccountBalance", s.balances, balanceRecord)
}

func (e *Emulator) handleListTransactions(w http.ResponseWriter, r *http.Request) error {
	s, err := e.readSnapshot(r, dataTypeTransactions)
	if err != nil {
		return err
	}
	return servePage(w, r, "Transaction", s.transactions, transactionRecord)
}

func (e *Emulator) handleGetTransaction(w http.ResponseWriter, r *http.Request) error {
	s, err := e.readSnapshot(r, dataTypeTransactions)
	if err != nil {
		return err
	}
	return serveItem(w, s.transactions, func(t transactionJSON) string { return t.ID }, r.PathValue("transactionId"), "transaction")
}

func (e *Emulator) handleListCategories(w http.ResponseWriter, r *http.Request) error {
	s, err := e.readSnapshot(r, dataTypeCategories)
	if err != nil {
		return err
	}
	return servePage(w, r, "TransactionCategory", s.categories, categoryRecord)
}

func (e *Emulator) handleGetCategory(w http.ResponseWriter, r *http.Request) error {
	s, err := e.readSnapshot(r, dataTypeCategories)
	if err != nil {
		return err
	}
	return serveItem(w, s.categories, func(c categoryJSON) string { return c.ID }, r.PathValue("transactionCategoryId"), "transaction category")
}
